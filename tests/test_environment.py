"""The CPU that a run (and its benchmark figures) ran on is named precisely enough to tell apart."""

from __future__ import annotations

import platform

from framework.environment import cpu_name, describe_environment

TWO_PROCESSORS = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: AMD EPYC
flags\t\t: fpu avx512f

processor\t: 1
cpu family\t: 25
model\t\t: 17
model name\t: another CPU
"""


def test_a_generic_model_name_gets_the_first_processors_family_and_model(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(TWO_PROCESSORS)
    assert cpu_name(str(cpuinfo)) == "AMD EPYC (family 26, model 2)"


def test_without_family_numbers_the_model_name_alone(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some ARM core\n")
    assert cpu_name(str(cpuinfo)) == "Some ARM core"


def test_without_cpuinfo_the_platforms_processor(tmp_path):
    assert cpu_name(str(tmp_path / "missing")) == (platform.processor() or platform.machine())


def test_the_environment_records_the_cpu():
    assert describe_environment()["cpu"] == cpu_name()
