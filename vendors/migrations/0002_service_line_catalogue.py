from django.db import migrations

# A frozen copy: later edits to vendors.choices must come with their own migration.
CATALOGUE = {
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


def create_catalogue(apps, schema_editor):
    ServiceLine = apps.get_model("vendors", "ServiceLine")
    for slug, name in CATALOGUE.items():
        ServiceLine.objects.update_or_create(slug=slug, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("vendors", "0001_initial")]

    operations = [migrations.RunPython(create_catalogue, migrations.RunPython.noop)]
