"""Field types shared by the appeal, project and satisfaction payloads: the place
vocabulary (district › street › community › grid, unit), free-text limits and the ledger year.

Every entry point that takes these (our HTTP routes, the Open311 facade, intake from
other systems) checks them against the same limits, from here."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from minsheng.inputs import Int32, Text

District = Annotated[
    Text, Field(min_length=1, description="Division name (GB/T 2260), e.g. 洮北区.")
]
Street = Annotated[Text | None, Field(description="Street office (街道), e.g. 长庆街道.")]
Community = Annotated[Text | None, Field(description="Community (社区), e.g. 百福社区.")]
Grid = Annotated[
    Text | None, Field(description="Grid (网格) of the community, e.g. 百福社区第1网格.")
]
Unit = Annotated[
    Text, Field(min_length=1, description="Handling unit (承办单位), e.g. 市交通运输局.")
]
DESCRIPTION_LIMIT = 5000  # characters of an appeal's description, however it arrives
Description = Annotated[Text, Field(max_length=DESCRIPTION_LIMIT)]
# A phone number as a citizen gives it: digits, perhaps a leading + and - or spaces
PHONE = r"^\+?[0-9][0-9\- ]{6,19}$"
Reason = Annotated[Text, Field(min_length=1, max_length=2000)]
Note = Annotated[Text, Field(max_length=2000)]
Year = Annotated[Int32, Field(ge=2000, le=2100, description="Ledger year (年初立账, 年底交账).")]
