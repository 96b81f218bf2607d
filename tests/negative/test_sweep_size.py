"""How many negative inputs the sweep sends: the figure for the security issue's closing note.
The run prints what was actually sent, by family, at its end (see conftest.py)."""

from tests.negative.test_api_inputs import planned_api_inputs
from tests.negative.test_headers import planned_header_inputs
from tests.negative.test_html_forms import planned_html_inputs
from tests.negative.test_uploads import planned_upload_inputs

# What the sweep sent when it was written, less a margin for endpoints merged or removed
# since; a sweep that quietly shrinks (a family that stops applying, a discovery that finds
# nothing) fails here.
FLOOR = 2_300


def test_the_sweep_sends_thousands_of_negative_inputs():
    planned = (
        planned_api_inputs()
        + planned_html_inputs()
        + planned_upload_inputs()
        + planned_header_inputs()
    )
    assert planned >= FLOOR, planned


def test_every_kind_of_write_gets_its_share():
    assert planned_api_inputs() >= 1_200
    assert planned_html_inputs() >= 700
    assert planned_upload_inputs() >= 150
