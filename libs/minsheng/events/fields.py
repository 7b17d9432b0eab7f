"""Field types shared by the appeal, project and satisfaction payloads: the place
vocabulary (district › street › community, unit) and free-text limits."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

District = Annotated[
    str, Field(min_length=1, description="Division name (GB/T 2260), e.g. 洮北区.")
]
Street = Annotated[str | None, Field(description="Street office (街道), e.g. 长庆街道.")]
Community = Annotated[str | None, Field(description="Community (社区), e.g. 百福社区.")]
Unit = Annotated[
    str, Field(min_length=1, description="Handling unit (承办单位), e.g. 市交通运输局.")
]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Note = Annotated[str, Field(max_length=2000)]
