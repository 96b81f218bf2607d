// Drag-and-drop for file uploads, as an enhancement of a normal <input type="file">.
//
// Markup: an element with [data-dropzone] around the file input, with an optional
// [data-dropzone-status] element (aria-live) for the chosen file's name and size. Without
// this script the form works as it is; with it, a file dropped anywhere on the zone fills
// the input, and the chosen file is named before it is sent. The input may carry
// data-max-bytes to warn about a file that the server would refuse for its size (the
// server still checks everything).
(function () {
  "use strict";

  function formatSize(bytes) {
    var units = [
      ["GB", 1024 * 1024 * 1024],
      ["MB", 1024 * 1024],
      ["KB", 1024],
    ];
    for (var i = 0; i < units.length; i += 1) {
      if (bytes >= units[i][1]) {
        var value = bytes / units[i][1];
        return (Number.isInteger(value) ? value : value.toFixed(1)) + " " + units[i][0];
      }
    }
    return bytes + (bytes === 1 ? " byte" : " bytes");
  }

  function showChoice(zone, input, status) {
    var file = input.files && input.files[0];
    var maxBytes = parseInt(input.getAttribute("data-max-bytes") || "0", 10);
    input.setCustomValidity("");
    if (!status) {
      return;
    }
    status.classList.remove("is-invalid");
    if (!file) {
      status.textContent = "";
      return;
    }
    if (maxBytes && file.size > maxBytes) {
      var message = file.name + " is " + formatSize(file.size) +
        ", larger than the " + formatSize(maxBytes) + " limit.";
      input.setCustomValidity(message);
      status.classList.add("is-invalid");
      status.textContent = message;
      return;
    }
    status.textContent = "Selected: " + file.name + " (" + formatSize(file.size) + ")";
  }

  function enhance(zone) {
    var input = zone.querySelector('input[type="file"]');
    if (!input || typeof DataTransfer === "undefined") {
      return;
    }
    var status = zone.querySelector("[data-dropzone-status]");
    var depth = 0;

    zone.classList.add("dropzone-enhanced");

    zone.addEventListener("dragenter", function (event) {
      event.preventDefault();
      depth += 1;
      zone.classList.add("is-dragover");
    });
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      if (event.dataTransfer) {
        event.dataTransfer.dropEffect = "copy";
      }
    });
    zone.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (depth === 0) {
        zone.classList.remove("is-dragover");
      }
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      depth = 0;
      zone.classList.remove("is-dragover");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) {
        return;
      }
      // One version is one file: keep the first if several are dropped.
      var transfer = new DataTransfer();
      transfer.items.add(files[0]);
      input.files = transfer.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    input.addEventListener("change", function () {
      showChoice(zone, input, status);
    });
    showChoice(zone, input, status);
  }

  function init() {
    var zones = document.querySelectorAll("[data-dropzone]");
    if (!zones.length) {
      return;
    }
    zones.forEach(enhance);
    // A file dropped just beside the zone would otherwise make the browser leave the page
    // to open it, losing what was typed.
    ["dragover", "drop"].forEach(function (type) {
      window.addEventListener(type, function (event) {
        if (!event.target.closest || !event.target.closest("[data-dropzone]")) {
          event.preventDefault();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
