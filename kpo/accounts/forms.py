"""The account forms, with the hints browsers and password managers need."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.validators import MaxLengthValidator

from . import two_factor


class SignInForm(auth_forms.AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets the field's max_length but never checks it, and django-axes stores
        # the username of every failure in a column of that size.
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))
        self.fields["username"].widget.attrs.update(
            {"autocapitalize": "none", "spellcheck": "false"}
        )


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = (
            "At least 10 characters; not a common password, not only digits and not like "
            "your name, username or e-mail address."
        )
        self.fields["new_password2"].label = "Confirm the new password"


class CodeField(forms.CharField):
    """A one-time code: what phones offer to fill in from an SMS or an authenticator."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
                "class": "code-input",
            }
        )


class TwoFactorCodeForm(forms.Form):
    """The second step of signing in."""

    code = CodeField(
        label="Code",
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery "
        "codes.",
    )


class TwoFactorEnrolForm(forms.Form):
    """Confirming a new authenticator app with the code it shows."""

    key = forms.CharField(label="QR code", widget=forms.HiddenInput)
    code = CodeField(
        label="Code from the app",
        help_text="The 6-digit code the app shows for this account.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["code"].widget.attrs["inputmode"] = "numeric"

    def clean_key(self):
        key = two_factor.unsign_key(self.user, self.cleaned_data["key"])
        if key is None:
            raise forms.ValidationError(
                "This set-up page has expired. Add the account to the app again with the new "
                "QR code below."
            )
        return key


class PasswordConfirmForm(forms.Form):
    """The password again, before a change that weakens the account."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password
