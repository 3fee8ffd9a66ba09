"""Privileged behaviour checked by bare-metal guest programs (tests/guests/bare)."""
from tests.priv.guests import assert_passes


def test_traps_and_delegation(engine):
    assert_passes(engine, "traps")


def test_csr_rules_and_warl(engine):
    assert_passes(engine, "csr")


def test_interrupts(engine):
    assert_passes(engine, "intr")


def test_sv39_sv48_translation(engine):
    assert_passes(engine, "vm")


def test_fence_i_after_patching_code(engine):
    assert_passes(engine, "fencei")


def test_asid_switch_and_each_form_of_sfence_vma(engine):
    assert_passes(engine, "asid")
