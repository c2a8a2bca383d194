"""childguard: a child protection mode for AI products.

    from childguard import Guard
    decision = Guard().check("where do babies come from?", age=8)
    decision.action        # Action.ADAPT
    decision.guidance      # how to answer for a 6-9 year old
"""

from .agebands import AgeBand
from .decision import Decision, Reason, Resource
from .detectors import DetectionInput, Detector, Finding, register_detector
from .errors import (
    ChildGuardError,
    ConfigError,
    DetectorError,
    InvalidAgeError,
    InvalidCountryError,
    InvalidInputError,
    InvalidLanguageError,
    InvalidRoleError,
    InvalidTextError,
    ModelError,
    TextTooLongError,
)
from .guard import CheckRequest, Guard
from .policy import Action, Policy, load_policy
from .settings import Settings

__version__ = "0.1.0"
__all__ = [
    "Action", "AgeBand", "CheckRequest", "ChildGuardError", "ConfigError", "Decision", "DetectionInput",
    "Detector", "DetectorError", "Finding", "Guard", "InvalidAgeError", "InvalidCountryError",
    "InvalidInputError", "InvalidLanguageError", "InvalidRoleError", "InvalidTextError", "ModelError",
    "Policy", "Reason", "Resource", "Settings", "TextTooLongError", "load_policy", "register_detector",
]
