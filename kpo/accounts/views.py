from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from engagements.models import Engagement


@login_required
def home(request):
    engagements = (
        Engagement.objects.restrict(request.user, "view")
        .select_related("client", "provider", "service_line")
        .order_by("-updated_at")[:20]
    )
    return render(request, "home.html", {"engagements": engagements})
