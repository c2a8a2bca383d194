"""Children's personal data (5b): find it with Microsoft Presidio and redact it so the text stays
readable ("my number is [phone]"). Presidio runs on a blank spaCy pipeline (pattern recognizers need
no NER model, and none is downloaded); the project's own recognizers cover what matters for
children in ten languages (school and class, home address, live location, usernames and handles,
passwords, names of the child and parents) and reuse the expressions of the fast redactor
(childguard.redaction), so there is one definition of each. Presidio's e-mail and URL recognizers are left out: they look up the public
suffix list on the internet at run time. Needs the `privacy` extra."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .messages import message_languages
from .pattern_data import Pattern
from .redaction import HANDLE_PATTERNS, NAME_PATTERNS, PASSWORD, PERSONAL_DATA, RELATIVE_NAME_PATTERNS

_F = re.IGNORECASE | re.UNICODE

# personal-data pattern id -> Presidio entity and the readable placeholder
_KIND_ENTITY = {
    "email_address": "EMAIL_ADDRESS", "phone_number": "PHONE_NUMBER", "street_address": "HOME_ADDRESS",
    "school_and_class": "SCHOOL", "password": "PASSWORD", "live_location": "LIVE_LOCATION",
    "photo_of_self": "SELF_IMAGE",
}
PLACEHOLDER = {
    "EMAIL_ADDRESS": "[email]", "PHONE_NUMBER": "[phone]", "HOME_ADDRESS": "[address]", "SCHOOL": "[school]",
    "PASSWORD": "[password]", "LIVE_LOCATION": "[location]", "USERNAME": "[username]", "PERSON_NAME": "[name]",
    "SELF_IMAGE": "[photo of me]", "CREDIT_CARD": "[card]", "IBAN_CODE": "[bank account]", "IP_ADDRESS": "[ip address]",
}


def password_values(password: Pattern = PASSWORD) -> tuple[str, ...]:
    """The fast redactor's password expressions with the password itself as group `v`: where a password
    is gets written once; the fast redactor drops the whole phrase, Presidio only the value. Each
    expression holds the password as its one `\\S+`."""
    return tuple(a.replace(r"\S+", r"(?P<v>[^\s,;!?]+)", 1) for a in password.alternatives)


# values inside a context: the named group `v` is what gets redacted, the context words stay readable;
# the fast redactor applies the same expressions, so a stored excerpt loses what `childguard redact` does
_VALUE_PATTERNS: dict[str, tuple[str, ...]] = {
    "PASSWORD": password_values(),
    "USERNAME": HANDLE_PATTERNS,
    "PERSON_NAME": (*RELATIVE_NAME_PATTERNS, *NAME_PATTERNS),  # the child's own name in the ten languages, any case
}


@dataclass(frozen=True, slots=True)
class RedactedEntity:
    entity: str
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    entities: tuple[RedactedEntity, ...]


def _recognizers(lang: str) -> list[Any]:
    from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
    from presidio_analyzer import Pattern as PPattern
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
    )

    class ValueRecognizer(EntityRecognizer):
        """Redacts only the value group of a context pattern, keeping "my password is" readable."""

        def __init__(self, entity: str, patterns: tuple[str, ...], language: str) -> None:
            self._regexes = [re.compile(p, re.UNICODE if entity == "PERSON_NAME" else _F) for p in patterns]
            super().__init__(supported_entities=[entity], supported_language=language, name=f"childguard_{entity}")

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            out = []
            for rx in self._regexes:
                for m in rx.finditer(text):
                    out.append(RecognizerResult(self.supported_entities[0], m.start("v"), m.end("v"), 0.9))
            return out

    def from_detector(p: Pattern) -> Any:
        entity = _KIND_ENTITY[p.id]
        return PatternRecognizer(supported_entity=entity, supported_language=lang, name=f"childguard_{entity}",
                                 patterns=[PPattern(p.text, p.regex.pattern, p.score)], global_regex_flags=_F)

    recs: list[Any] = [from_detector(p) for p in PERSONAL_DATA if p.id in _KIND_ENTITY and p is not PASSWORD]
    recs += [ValueRecognizer(entity, pats, lang) for entity, pats in _VALUE_PATTERNS.items()]
    recs += [
        PhoneRecognizer(supported_language=lang, context=[],
                        supported_regions=("GB", "US", "FR", "DE", "ES", "PT", "BR", "KE", "IN", "ZA", "NG", "RU", "CN")),
        CreditCardRecognizer(supported_language=lang, context=[]),
        IbanRecognizer(supported_language=lang, context=[]),
        IpRecognizer(supported_language=lang, context=[]),
    ]
    return recs


class Redactor:
    """Presidio analyzer + anonymizer, built once (a few hundred ms) and reused."""

    def __init__(self, languages: tuple[str, ...] | None = None, min_score: float = 0.5) -> None:
        """`languages`: by default the ones the package speaks to children in (messages.yaml), so a
        language added there is redacted here too."""
        languages = languages or tuple(message_languages())
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_anonymizer import AnonymizerEngine

        class BlankSpacyNlpEngine(SpacyNlpEngine):
            def load(self) -> None:
                self.nlp = {m["lang_code"]: spacy.blank("xx") for m in self.models}  # type: ignore[assignment]

        nlp = BlankSpacyNlpEngine(models=[{"lang_code": lang, "model_name": "blank"} for lang in languages])
        nlp.load()
        registry = RecognizerRegistry(supported_languages=list(languages))
        for lang in languages:
            for rec in _recognizers(lang):
                registry.add_recognizer(rec)
        self.languages = languages
        self.min_score = min_score
        self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=list(languages))
        self._anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]

    def find(self, text: str, lang: str = "en") -> list[RedactedEntity]:
        language = lang if lang in self.languages else "en"
        results = self._analyzer.analyze(text=text, language=language, score_threshold=self.min_score)
        return sorted((RedactedEntity(r.entity_type, r.start, r.end, round(float(r.score), 3)) for r in results),
                      key=lambda e: (e.start, -e.end))

    def redact(self, text: str, lang: str = "en") -> Redaction:
        from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

        found = self.find(text, lang)
        results = [RecognizerResult(e.entity, e.start, e.end, e.score) for e in found]
        operators = {entity: OperatorConfig("replace", {"new_value": value}) for entity, value in PLACEHOLDER.items()}
        operators["DEFAULT"] = OperatorConfig("replace", {"new_value": "[private]"})
        out = self._anonymizer.anonymize(text=text, analyzer_results=results, operators=operators)
        return Redaction(out.text, tuple(found))


@lru_cache(maxsize=1)
def default_redactor() -> Redactor:
    return Redactor()
