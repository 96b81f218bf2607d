"""Keep guardian's engagement grants in step with who manages, leads and works on what.

Only services call these, inside the transaction of the change that causes them, so a grant
and its cause commit (or roll back) together.
"""

from guardian.shortcuts import assign_perm, remove_perm

from .policy import VIEW_PERMISSION


def grant_user(engagement, user) -> None:
    assign_perm(VIEW_PERMISSION, user, engagement)


def revoke_user(engagement, user) -> None:
    remove_perm(VIEW_PERMISSION, user, engagement)


def grant_team(engagement, team) -> None:
    assign_perm(VIEW_PERMISSION, team.group, engagement)


def revoke_team(engagement, team) -> None:
    remove_perm(VIEW_PERMISSION, team.group, engagement)


def add_to_team_group(team, user) -> None:
    team.group.user_set.add(user)


def remove_from_team_group(team, user) -> None:
    team.group.user_set.remove(user)


def user_is_granted(engagement, user) -> bool:
    from .models import EngagementUserObjectPermission

    return EngagementUserObjectPermission.objects.filter(
        content_object=engagement, user=user, permission__codename=VIEW_PERMISSION
    ).exists()
