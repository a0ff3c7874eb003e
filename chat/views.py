"""Pages: the customer chat page and the agent console (with its login)."""

import functools

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from sessions_app.serializers import user_display_name
from supportdesk.conf import app_setting


@ensure_csrf_cookie
def chat_page(request):
    """Render the chat page; the page's script does the rest over the API and WebSocket."""
    return render(
        request,
        "chat/index.html",
        {"max_message_chars": int(app_setting("CHAT_MAX_MESSAGE_CHARS")), **attachment_limits()},
    )


def attachment_limits() -> dict:
    """Return the attachment limits the pages' scripts check before uploading."""
    return {
        "attachment_max_bytes": int(app_setting("ATTACHMENT_MAX_BYTES")),
        "attachment_max_files": int(app_setting("ATTACHMENT_MAX_PER_MESSAGE")),
    }


class ConsoleLoginView(LoginView):
    """The console's login page; a non-staff account is told so instead of let in."""

    template_name = "console/login.html"
    redirect_authenticated_user = False

    def form_valid(self, form):
        if not form.get_user().is_staff:
            return self.render_to_response(self.get_context_data(form=form, denied=True))
        return super().form_valid(form)

    def get_default_redirect_url(self):
        return reverse("console")


def staff_page(view):
    """Let staff through; send anonymous visitors to the console's login, refuse others (403)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse("console-login"))
        if not user.is_staff:
            return render(
                request,
                "console/login.html",
                {"denied": True, "form": AuthenticationForm(request)},
                status=403,
            )
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


@staff_page
def console_page(request):
    """Render the live agent console for staff; everyone else goes to its login page."""
    user = request.user
    return render(
        request,
        "console/index.html",
        {
            "user_display_name": user_display_name(user),
            "logout_url": reverse("console-logout"),
            "max_message_chars": int(app_setting("CHAT_MAX_MESSAGE_CHARS")),
            **attachment_limits(),
        },
    )
