from django.db import models


class RestrictedQuerySet(models.QuerySet):
    """`Model.objects.restrict(user, action)`: the rows `user` may see and act on with `action`.

    Every model inside an engagement declares `engagement_path` (the lookup from the model to
    its engagement; "" on Engagement itself) so that one policy serves them all.
    """

    def restrict(self, user, action: str = "view"):
        from kpo.access import policy

        return policy.restrict_queryset(self, user, action)
