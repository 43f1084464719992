"""The native library reports the SDK version, which is the Python package's (one version everywhere)."""

import pathlib
import re

import digital_otp as otp


def test_sdk_version_is_the_package_version():
    pyproject = (pathlib.Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    version = re.search(r'^version = "([^"]+)"$', pyproject, re.MULTILINE).group(1)
    assert otp.sdk_version() == version
