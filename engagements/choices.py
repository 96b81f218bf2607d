from django.db import models


class EngagementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    TERMINATED = "terminated", "Terminated"


# What may follow what; `engagements.services` checks every change against it.
ENGAGEMENT_TRANSITIONS = {
    EngagementStatus.DRAFT: {EngagementStatus.PROPOSED},
    EngagementStatus.PROPOSED: {EngagementStatus.ACTIVE, EngagementStatus.DRAFT},
    EngagementStatus.ACTIVE: {
        EngagementStatus.ON_HOLD,
        EngagementStatus.COMPLETED,
        EngagementStatus.TERMINATED,
    },
    EngagementStatus.ON_HOLD: {
        EngagementStatus.ACTIVE,
        EngagementStatus.COMPLETED,
        EngagementStatus.TERMINATED,
    },
    EngagementStatus.COMPLETED: set(),
    EngagementStatus.TERMINATED: set(),
}

# Each lifecycle action: the states it may start from and the state it leads to. Every pair
# is in ENGAGEMENT_TRANSITIONS; the action says which of them a given button means, so that
# "resume" cannot activate a proposal and "accept" cannot lift a hold.
ENGAGEMENT_ACTIONS = {
    "propose": ({EngagementStatus.DRAFT}, EngagementStatus.PROPOSED),
    "accept": ({EngagementStatus.PROPOSED}, EngagementStatus.ACTIVE),
    "decline": ({EngagementStatus.PROPOSED}, EngagementStatus.DRAFT),
    "hold": ({EngagementStatus.ACTIVE}, EngagementStatus.ON_HOLD),
    "resume": ({EngagementStatus.ON_HOLD}, EngagementStatus.ACTIVE),
    "complete": ({EngagementStatus.ACTIVE, EngagementStatus.ON_HOLD}, EngagementStatus.COMPLETED),
    "terminate": (
        {EngagementStatus.ACTIVE, EngagementStatus.ON_HOLD},
        EngagementStatus.TERMINATED,
    ),
}

# States in which the client may still edit the terms.
EDITABLE_STATUSES = (
    EngagementStatus.DRAFT,
    EngagementStatus.PROPOSED,
    EngagementStatus.ACTIVE,
    EngagementStatus.ON_HOLD,
)
CLOSED_STATUSES = (EngagementStatus.COMPLETED, EngagementStatus.TERMINATED)


class Confidentiality(models.TextChoices):
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class PricingModel(models.TextChoices):
    FIXED_FEE = "fixed_fee", "Fixed fee"
    TIME_AND_MATERIALS = "time_and_materials", "Time and materials"
    DEDICATED_TEAM = "dedicated_team", "Dedicated team"


class DocumentClassification(models.TextChoices):
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"
