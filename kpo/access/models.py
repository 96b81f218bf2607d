"""Guardian's direct foreign-key object permissions for engagements.

A real foreign key (instead of guardian's generic `object_pk` text column) keeps
"which engagements may this user see" a join on an indexed integer column.
Deliverables, submissions, documents and comments inherit their engagement's grants.
"""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class EngagementUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="user_grants"
    )

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission"], name="eng_user_grant_idx")]


class EngagementGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(
        "engagements.Engagement", on_delete=models.CASCADE, related_name="group_grants"
    )

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["group", "permission"], name="eng_group_grant_idx")]
