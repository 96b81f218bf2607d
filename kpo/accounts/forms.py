"""The account forms, with the hints browsers and password managers need."""

from django.contrib.auth import forms as auth_forms


class SignInForm(auth_forms.AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
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
