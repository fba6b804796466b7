"""Masking personal data: clear values are masked, values a platform already masked are shown as sent, never mangled."""

from __future__ import annotations

import pytest

from domain.masking import is_masked, looks_encrypted, mask_address, mask_name, mask_phone


def test_clear_values_are_masked():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_name("Li") == "L*"
    assert mask_address("文三路 90 号") == "****"


@pytest.mark.parametrize("masked", ["138****5678", "1**********", "*******5678", "+86 138****5678", "138＊＊＊＊5678",
                                    "138••••5678"])
def test_an_already_masked_phone_is_kept_as_is(masked):
    # the old behaviour squeezed the asterisks out: "138****5678" became "1385678"
    assert mask_phone(masked) == masked


@pytest.mark.parametrize("masked", ["张*", "张**", "**丰", "J***n", "陈●"])
def test_an_already_masked_name_is_kept_as_is(masked):
    assert mask_name(masked) == masked


def test_a_platform_s_masked_address_is_kept_as_is():
    assert mask_address("浙江省杭州市西湖区文**路**号") == "浙江省杭州市西湖区文**路**号"


def test_masked_and_encrypted_values_are_recognised():
    assert is_masked("138****5678") and is_masked("张*") and not is_masked("13812345678") and not is_masked("")
    assert looks_encrypted("~AgAAAAHv9J0B5eXc~AC0t~1~~") and looks_encrypted("#ZgXk81#")
    assert not looks_encrypted("文三路 90 号") and not looks_encrypted("~") and not looks_encrypted("")


def test_empty_values_stay_empty():
    assert mask_phone(None) is None and mask_name("") == "" and mask_address(None) is None
