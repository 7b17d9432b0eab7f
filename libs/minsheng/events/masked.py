"""Free-text field types of the payloads: masked of personal numbers as a model is built.

Every free-text field of every payload has one of these types, so an event cannot hold a
full phone or ID number however it was made: by a service's rules from an HTTP or
Open311 request, from another system's intake event, or parsed back from Kafka. The
limits are `fields`' (the entry points check the same ones on the text as typed, which
the appeals database keeps); `mask_personal` keeps the length, so a masked text fits
them too. Ids, codes and reference names (district, unit, ...) are not free text.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from minsheng.events.fields import Description, Note, Reason
from minsheng.inputs import Text
from minsheng.masking import mask_personal

MASKED = AfterValidator(mask_personal)
MaskedText = Annotated[Text, MASKED]  # free text with the limits given where it is used
Title = Annotated[Text, Field(min_length=1, max_length=200), MASKED]
MaskedDescription = Annotated[Description, MASKED]
MaskedReason = Annotated[Reason, MASKED]
MaskedNote = Annotated[Note, MASKED]
