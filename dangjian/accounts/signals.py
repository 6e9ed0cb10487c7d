from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone


@receiver(user_logged_in)
def start_session_clock(sender, request, user, **kwargs):
    """The absolute session cap counts from the moment of sign-in."""
    if request is not None and hasattr(request, "session"):
        now = timezone.now().timestamp()
        request.session["_login_at"] = now
        request.session["_seen_at"] = now
