"""`mask_personal` and `mask_bytes`: every written form of a personal number is masked,
ordinary numbers (ids, dates, amounts, years) are left alone. Pure, no servers."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minsheng.masking import mask_bytes, mask_personal, mask_phone

# Chinese text around a number, without digits of its own
CHINESE = st.text(
    st.sampled_from("请回电联系王女士社区门前路灯不亮，。：、（）！ 号楼"), max_size=12
)
SEPARATOR = st.sampled_from(["", " ", "-"])


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(the number as written, its 11 digits)."""
    digits = draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "+86-", "0086", "0086 ", "(+86)", "86"]))
    a, b = draw(SEPARATOR), draw(SEPARATOR)
    return f"{prefix}{digits[:3]}{a}{digits[3:7]}{b}{digits[7:]}", digits


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, str]:
    """(the number as written, its local digits)."""
    area = draw(st.from_regex(r"0[1-9][0-9]{1,2}", fullmatch=True))
    local = draw(st.from_regex(r"[1-9][0-9]{6,7}", fullmatch=True))
    form = draw(st.sampled_from(["{a}-{l}", "({a}){l}", "（{a}）{l}", "{a} {l}", "{a}{l}"]))
    if draw(st.booleans()):
        form = "+86 {n} {l}" if form == "{a} {l}" else form
    return form.format(a=area, l=local, n=area[1:]), local


@st.composite
def resident_ids(draw: st.DrawFn) -> tuple[str, str]:
    """(the number as written, its 18 characters)."""
    number = draw(
        st.from_regex(r"[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])[0-9]{5}[0-9X]", fullmatch=True)
    )
    sep = draw(st.sampled_from(["", " "]))
    return f"{number[:6]}{sep}{number[6:14]}{sep}{number[14:]}", number


@st.composite
def old_resident_ids(draw: st.DrawFn) -> tuple[str, str]:
    """(the number as written, its 15 digits): area, YYMMDD, sequence."""
    number = draw(
        st.from_regex(
            r"[1-9][0-9]{5}[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}", fullmatch=True
        )
    )
    return number, number


def luhn_completed(body: str) -> str:
    """`body` with the check digit that makes it pass the Luhn check."""
    for check in "0123456789":
        digits = [int(ch) for ch in body + check]
        total = sum(digits[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


@st.composite
def bank_cards(draw: st.DrawFn) -> tuple[str, str]:
    """(the number as written, its 16 to 19 digits)."""
    length = draw(st.integers(16, 19))
    number = luhn_completed(draw(st.from_regex(rf"[3-6][0-9]{{{length - 2}}}", fullmatch=True)))
    if draw(st.booleans()):
        sep = draw(st.sampled_from([" ", "-"]))
        return sep.join(number[i : i + 4] for i in range(0, length, 4)), number
    return number, number


@st.composite
def labelled(draw: st.DrawFn) -> tuple[str, str]:
    """A number after a label it is typed against: `Tel13912345678`, `电话 8765432`."""
    label = draw(st.sampled_from(["Tel", "tel:", "TEL", "Phone", "Mobile", "fax", "ID"]))
    written, secret = draw(st.one_of(mobiles(), resident_ids(), old_resident_ids()))
    if draw(st.booleans()):
        label = draw(st.sampled_from(["电话", "座机：", "固话 ", "号码:", "拨打", "Tel ", "tel:"]))
        secret = draw(st.from_regex(r"[2-9][0-9]{6,7}", fullmatch=True))
        written = secret
    return label + written, secret


def digits_of(text: str) -> str:
    return re.sub(r"[^0-9X]", "", text)


@given(
    CHINESE,
    st.one_of(mobiles(), landlines(), resident_ids(), old_resident_ids(), bank_cards(), labelled()),
    CHINESE,
)
def test_every_written_form_in_chinese_text_is_masked(
    before: str, number: tuple[str, str], after: str
) -> None:
    written, secret = number
    masked = mask_personal(before + written + after)
    assert secret not in digits_of(masked)
    assert masked.startswith(before)
    assert masked.endswith(after)
    assert len(masked) == len(before + written + after)  # fits the same limits
    assert mask_personal(masked) == masked


@given(CHINESE, mobiles(), CHINESE)
def test_a_mobile_keeps_its_first_three_and_last_four(
    before: str, number: tuple[str, str], after: str
) -> None:
    written, digits = number
    masked = mask_personal(before + written + after)
    assert "****" in masked.replace(" ", "").replace("-", "")
    assert digits[:3] in masked
    assert digits[-4:] in masked


# Ordinary numbers: our own ids, dates, times, amounts, years, percentages
ORDINARY = st.one_of(
    st.from_regex(r"BC20[0-9]{2}(0[1-9]|1[0-2])[0-3][0-9][0-9]{6}", fullmatch=True),
    st.from_regex(r"P20[0-9]{2}-[0-9]{4}", fullmatch=True),
    st.from_regex(r"c_[0-9a-f]{16}", fullmatch=True).filter(lambda s: not re.search(r"\d{11}", s)),
    st.from_regex(r"20[0-9]{2}-(0[1-9]|1[0-2])-[0-3][0-9]", fullmatch=True),
    st.from_regex(r"20[0-9]{2}年(1[0-2]|[1-9])月[1-3]?[0-9]日", fullmatch=True),
    st.from_regex(r"20[0-9]{2}(0[1-9]|1[0-2])[0-3][0-9]", fullmatch=True),
    st.from_regex(r"[0-2][0-9]:[0-5][0-9]", fullmatch=True),
    st.from_regex(r"[1-9][0-9]{0,8}(\.[0-9]{1,2})?(元|万元|米|平方米)", fullmatch=True),
    st.from_regex(r"[1-9][0-9]{0,2}(,[0-9]{3}){1,3}元", fullmatch=True),
    st.from_regex(r"(19|20)[0-9]{2}(年|-(19|20)[0-9]{2}年)", fullmatch=True),
    st.from_regex(r"[0-9]{1,2}(\.[0-9])?%", fullmatch=True),
    st.uuids().map(str),
)


@given(st.lists(st.tuples(CHINESE.filter(bool), ORDINARY), max_size=5), CHINESE)
def test_ordinary_numbers_are_left_alone(parts: list[tuple[str, str]], end: str) -> None:
    text = "".join(words + number for words, number in parts) + end
    assert mask_personal(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("请回电13912345678", "请回电139****5678"),
        ("+86 139 1234 5678", "+86 139 **** 5678"),
        ("电话：139-1234-5678。", "电话：139-****-5678。"),
        ("0086-13912345678", "0086-139****5678"),
        ("8613912345678", "86139****5678"),
        ("办公室0436-1234567", "办公室0436-*****67"),
        ("(0436)1234567", "(0436)*****67"),
        ("（0436）1234567转", "（0436）*****67转"),
        ("010-87654321", "010-******21"),
        ("(010)2345678", "(010)*****78"),  # the fewest digits a number has: 10
        ("+86 10 87654321", "+86 10 ******21"),
        ("身份证22080219900101123X", "身份证2208**********123X"),
        ("220802199001011234号", "2208**********1234号"),
        ("手机１３９１２３４５６７８", "手机１３９****５６７８"),
        ("2026-12-01 13912345678", "2026-12-01 139****5678"),
        ("BC20261201000042", "BC20261201000042"),
        ("编号139123456789", "编号139123456789"),  # 12 digits: not a mobile
        # UUIDs and hashes have runs that look like numbers when cut out of them
        *(
            (u, u)
            for u in (
                "e87fb143-1445-4169-bafd-b515b815bf24",
                "ad202d67-2555-4511-ae93-052959725935",
            )
        ),
        ("3c5a91c1-0374-4889-9252-b47e24c2cff1", "3c5a91c1-0374-4889-9252-b47e24c2cff1"),
        ("c_13912345678abcd", "c_13912345678abcd"),
        ("v1.13912345678", "v1.13912345678"),
        # a Latin label glued on, the old 15-digit ID, bank cards, local numbers named so
        ("Tel13912345678", "Tel139****5678"),
        ("telephone:0436-1234567", "telephone:0436-*****67"),
        ("ID22080219900101123X", "ID2208**********123X"),
        ("Hotel13912345678", "Hotel13912345678"),  # a word, not a label
        ("身份证220802900101123", "身份证2208*******1123"),
        ("卡号6222 0212 3456 7890 128", "卡号6222 **** **** ***0 128"),
        ("6222021234567890128", "6222***********0128"),
        ("订单6222021234567890129", "订单6222021234567890129"),  # fails the Luhn check
        ("电话 8765432", "电话 *****32"),
        ("座机：2345-6789", "座机：****-**89"),
        ("共2345678元", "共2345678元"),  # an amount, no word that names a number
        ("拨打2345678次", "拨打2345678次"),
    ],
)
def test_examples(text: str, masked: str) -> None:
    assert mask_personal(text) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("123", None),
        (None, None),
    ],
)
def test_the_structured_phone_field(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


def test_a_json_document_keeps_its_shape() -> None:
    doc = {
        "subject": "BC20261201000042",
        "sequence": 7,
        "data": {"resolution": "请拨13912345678", "phone": 13912345678, "ok": True, "n": None},
        "list": ["0436-1234567", 2026],
    }
    masked = json.loads(mask_bytes(json.dumps(doc, ensure_ascii=False).encode()))
    assert masked == {
        "subject": "BC20261201000042",
        "sequence": 7,
        "data": {"resolution": "请拨139****5678", "phone": "139****5678", "ok": True, "n": None},
        "list": ["0436-*****67", 2026],
    }


def test_bytes_without_personal_numbers_are_kept_byte_for_byte() -> None:
    raw = b'{ "a" :1,\n "b": "BC20261201000042"}'
    assert mask_bytes(raw) is raw
    assert mask_bytes(b"{not json") == b"{not json"


def test_bytes_that_are_not_json_or_not_utf8_are_masked_as_text() -> None:
    assert mask_bytes(b'{"title": "13912345678"') == b'{"title": "139****5678"'
    assert mask_bytes(b"\xff\xfe 13912345678 \x80") == b"\xff\xfe 139****5678 \x80"
