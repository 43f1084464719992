"""Only here to tag the wheel py3-none-<platform> (see pyproject.toml): the package
ships a native library that it loads with ctypes, so the wheel is specific to the
platform the library was built for but not to a Python version."""

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.dist import Distribution


class NativeLibraryDistribution(Distribution):
    """Declares native content, so the wheel is not tagged pure Python."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=NativeLibraryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
