from django.db import models

# The fixed catalogue; rows are created by a data migration and referenced by slug.
SERVICE_LINES = {
    "financial_research": "Financial research",
    "equity_research": "Equity research",
    "credit_analysis": "Credit analysis",
    "legal_research": "Legal research",
    "ip_research": "IP research",
    "clinical_data_analysis": "Clinical data analysis",
    "medical_writing": "Medical writing",
    "market_intelligence": "Market intelligence",
    "data_analytics": "Data analytics",
    "engineering_design": "Engineering design",
}


class CertificationKind(models.TextChoices):
    ISO_27001 = "iso_27001", "ISO 27001"
    SOC_2 = "soc_2", "SOC 2"
    HIPAA = "hipaa", "HIPAA"
    GDPR = "gdpr", "GDPR"


# Certificates that qualify a provider for `restricted` engagements.
SECURITY_CERTIFICATIONS = (CertificationKind.ISO_27001, CertificationKind.SOC_2)


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    CONDITIONAL = "conditional", "Conditional"
    REJECTED = "rejected", "Rejected"


# Verdicts that let a client activate engagements with the provider.
ENGAGEABLE_APPROVALS = (ApprovalStatus.APPROVED, ApprovalStatus.CONDITIONAL)


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
