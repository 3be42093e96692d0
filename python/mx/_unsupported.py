"""Modules of MXNet that MX does not provide, importable so that programs importing them load;
using any of their names raises MXNotSupportedError saying what is missing."""
import sys
import types

from .base import MXNotSupportedError


class UnsupportedModule(types.ModuleType):
    def __init__(self, name, why):
        super().__init__(name, why)
        self.__why = why

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise MXNotSupportedError("%s.%s: %s" % (self.__name__, attr, self.__why))


def install(fullname, why):
    m = UnsupportedModule(fullname, why)
    sys.modules[fullname] = m
    return m
