"""The CPU that a run (and its benchmark figures) ran on is named precisely enough to tell apart."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys

import pytest

from framework.environment import code_version, cpu_name, describe_environment

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


TENSORFLOW_ONLY = pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
                                     reason="TensorFlow's oneDNN switch")  # fmt: skip


def _onednn_in_a_fresh_process(env_value):
    """What a new process that imports ``framework`` first, then TensorFlow, reports for oneDNN."""
    env = {key: value for key, value in os.environ.items() if key != "TF_ENABLE_ONEDNN_OPTS"}
    if env_value is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = env_value
    code = ("import framework, keras; from framework.environment import describe_environment; "
            "print(describe_environment().get('onednn', 'no TensorFlow backend'))")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], env={**env, "TF_CPP_MIN_LOG_LEVEL": "2"},
                            capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return result.stdout.strip().splitlines()[-1]


@TENSORFLOW_ONLY
def test_importing_the_framework_turns_tensorflows_onednn_kernels_on():
    # TensorFlow leaves them off by default on CPUs without AVX512_VNNI/AVX_VNNI/AMX (framework/onednn.py)
    assert _onednn_in_a_fresh_process(None) == "on (TF_ENABLE_ONEDNN_OPTS=1)"


@TENSORFLOW_ONLY
def test_a_users_choice_of_onednn_is_kept():
    assert _onednn_in_a_fresh_process("0") == "off (TF_ENABLE_ONEDNN_OPTS=0)"


def test_cpu_cores_are_the_cores_the_process_may_use(monkeypatch):
    """Under taskset or a container's CPU set the host has more cores than the run may use."""
    import os

    from framework import environment

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert environment.usable_cores() == 1
    assert environment.describe_environment()["cpu_cores"] == "1"


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)  # fmt: skip


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")
def test_code_version_names_the_commit_and_uncommitted_changes(tmp_path):
    repo = tmp_path / "checkout"
    repo.mkdir()
    (repo / "tracked.py").write_text("a = 1\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "tracked.py")
    _git(repo, "commit", "-q", "-m", "first")
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()  # fmt: skip
    version = code_version(tmp_path / "elsewhere")  # not a checkout: the package's version alone
    assert "git" not in version
    (repo / "untracked.txt").write_text("run outputs are not code\n")
    assert code_version(repo) == f"{version} (git {commit})"
    (repo / "tracked.py").write_text("a = 2\n")
    assert code_version(repo) == f"{version} (git {commit}, with uncommitted changes)"
    assert describe_environment()["rnnseq"].startswith(version)


def test_the_code_version_recorded_is_the_one_read_at_import(monkeypatch):
    from framework import environment

    monkeypatch.setattr(environment, "code_version", lambda *_: "changed since")
    assert describe_environment()["rnnseq"] == environment.LOADED_CODE_VERSION != "changed since"
