"""High-precision pattern detectors, for what a regular expression finds better than statistics:
personal data a child shares or is asked for, the grooming moves a contact makes (secrecy, private
channels, being alone, cameras, meetings) and prompt-injection phrasing. Patterns cover the ten
core languages; evidence strings never contain the matched personal data itself."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from ..settings import Settings
from . import DetectionInput, Finding, register_detector

_F = re.IGNORECASE | re.UNICODE


@dataclass(frozen=True, slots=True)
class Pattern:
    """`anchors`: lower-case substrings of which every match contains at least one. Testing them with
    `in` first skips the regular expression for most messages, which keeps a check well under 1 ms."""

    kind: str
    regex: re.Pattern[str]
    score: float
    anchors: tuple[str, ...] = ()

    def search(self, text: str, lowered: str) -> re.Match[str] | None:
        if self.anchors and not any(a in lowered for a in self.anchors):
            return None
        return self.regex.search(text)


def _p(kind: str, score: float, *alternatives: str, anchors: tuple[str, ...] = ()) -> Pattern:
    return Pattern(kind, re.compile("|".join(f"(?:{a})" for a in alternatives), _F), score, anchors)


_DIGITS = tuple("0123456789")


# --- personal data (5b) -------------------------------------------------------------------------------

_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|way|court|crescent|place|terrace|"
    r"rue|avenue|chemin|boulevard|bd|calle|avenida|av|paseo|straße|strasse|str|weg|gasse|allee|platz|"
    r"rua|travessa|улица|ул|проспект|пр|переулок|mtaa|barabara|marg|road"
)
PERSONAL_DATA: tuple[Pattern, ...] = (
    _p("email address", 0.95, r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+\b"),
    _p("phone number", 0.9, r"(?<![\w/.])(?:\+|00)?\d(?:[\s().-]{0,2}\d){7,14}(?![\w/])"),
    _p("street address", 0.9,
       rf"\b\d{{1,5}}[a-z]?,?\s+(?:[\w'-]+\s+){{0,3}}(?:{_STREET_WORDS})\b",
       rf"\b(?:{_STREET_WORDS})\.?\s+(?:[\w'-]+\s+){{0,3}}\d{{1,5}}\b",
       r"\b[\w-]+(?:straße|strasse|weg|gasse|allee)\s+\d{1,5}\b",
       r"شارع\s+\S+(?:\s+\S+){0,2}\s+(?:رقم\s+)?\d{1,5}", r"[\u4e00-\u9fff]{1,6}(?:路|街|巷|道)\d{1,5}号",
       r"\b(?:mtaa\s+wa\s+\w+\s+(?:nambari\s+)?\d{1,5})\b", r"[\u0900-\u097F\w]+\s+(?:रोड|मार्ग)\s+\d{1,5}",
       anchors=_DIGITS),
    _p("school and class", 0.75,
       r"\b(?:i\s+go\s+to|i'?m\s+at|i\s+attend|my\s+school\s+is)\s+(?:[\w'.-]+\s+){0,4}(?:school|primary|academy|high)\b",
       r"\bclass\s+\d{1,2}\s?[a-z]\b|\byear\s+\d{1,2}\s?[a-z]\b",
       r"\b(?:je\s+suis\s+à\s+l'école|je\s+vais\s+à\s+l'école|voy\s+al\s+colegio|ich\s+gehe\s+auf\s+die|estudo\s+na\s+escola)\b",
       r"\bnasoma\s+shule\b|я\s+учусь\s+в\s+школе|[\u4e00-\u9fff]{2,8}(?:小学|中学)[\u4e00-\u9fff0-9]{0,4}(?:班|年级)",
       r"\bअ?में\s+पढ़(?:ता|ती)\s+हूँ|विद्यालय\s+में\s+\S+\s+कक्षा", r"أدرس\s+في\s+مدرسة",
       anchors=("school", "primary", "academy", "high", "class", "year", "école", "colegio", "ich gehe auf",
                "escola", "shule", "школе", "小学", "中学", "पढ़", "विद्यालय", "مدرسة")),
    _p("password", 0.95,
       r"\b(?:my\s+)?(?:password|passcode|pin)\s+(?:is|=|:)\s*\S+",
       r"\bmot\s+de\s+passe\s+(?:est|c'est|:)\s*\S+", r"\bcontraseña\s+(?:es|:)\s*\S+",
       r"\bpasswort\s+(?:ist|:)\s*\S+", r"\bsenha\s+(?:é|:)\s*\S+", r"пароль\s*(?:—|-|:)?\s*\S+",
       r"密码(?:是|:|：)\s*\S+", r"पासवर्ड\s+\S+\s+है", r"\bnenosiri\s+langu\s+ni\s+\S+", r"كلمة\s+السر\s+\S+",
       anchors=("password", "passcode", "pin", "mot de passe", "contraseña", "passwort", "senha", "пароль", "密码",
                "पासवर्ड", "nenosiri", "كلمة")),
    _p("live location", 0.8,
       r"\b(?:maps\.google\.\w+|goo\.gl/maps|maps\.app\.goo\.gl|maps\.apple\.com)\S*",
       r"\b-?\d{1,2}\.\d{4,},\s*-?\d{1,3}\.\d{4,}\b",
       r"\b(?:here'?s\s+my\s+(?:live\s+)?location|i'?m\s+at\s+the\s+\w+\s+(?:near|by|next\s+to)\s+my\s+(?:house|home))\b",
       r"\b(?:je\s+suis\s+au\s+parc\s+près\s+de\s+chez\s+moi|estoy\s+en\s+el\s+parque\s+cerca\s+de\s+mi\s+casa)\b",
       r"\b(?:ich\s+bin\s+gerade\s+im\s+park\s+bei\s+meinem\s+haus|estou\s+na\s+praça\s+perto\s+da\s+minha\s+casa)\b",
       anchors=("maps", "goo.gl", "location", "my house", "my home", "parc", "parque", "park", "praça", *_DIGITS)),
    _p("photo of self", 0.7,
       r"\b(?:here'?s|here\s+is|sending|i'?ll\s+send|i\s+sent)\s+(?:you\s+)?(?:a\s+)?(?:pic|pics|picture|photo|selfie|video)s?\s+of\s+me\b",
       r"\bthis\s+is\s+me\s+in\s+(?:the|my)\s+(?:pic|photo|picture|swimsuit|pyjamas|uniform)\b", r"\bmy\s+selfie\b",
       r"\bvoici\s+une\s+photo\s+de\s+moi|aquí\s+tienes\s+una\s+foto\s+mía|hier\s+ist\s+ein\s+foto\s+von\s+mir|"
       r"aqui\s+está\s+uma\s+foto\s+minha|вот\s+мое\s+фото|这是我的照片",
       anchors=("pic", "photo", "selfie", "video", "foto", "фото", "照片")),
    _p("asks for personal data", 0.8,
       r"\b(?:what'?s|what\s+is|tell\s+me|send\s+me|give\s+me|can\s+i\s+have)\s+(?:your|ur)\s+"
       r"(?:home\s+)?(?:address|phone\s+number|number|location|school|full\s+name|password|snap(?:chat)?|insta(?:gram)?)\b",
       r"\bwhere\s+do\s+(?:you|u)\s+live\b", r"\bwhat\s+school\s+do\s+(?:you|u)\s+go\s+to\b",
       r"\b(?:donne|envoie)[-\s]moi\s+ton\s+(?:adresse|numéro)", r"\btu\s+habites\s+où\b",
       r"\b(?:dame|pásame)\s+tu\s+(?:dirección|número)", r"\bdónde\s+vives\b",
       r"\bgib\s+mir\s+deine\s+(?:adresse|handynummer|nummer)", r"\bwo\s+wohnst\s+du\b",
       r"\bme\s+passa\s+seu\s+(?:endereço|número)", r"\bonde\s+você\s+mora\b",
       r"дай\s+(?:мне\s+)?свой\s+(?:адрес|номер)", r"где\s+ты\s+живешь",
       r"告诉我你家地址|你家住(?:在)?哪", r"अपना\s+पता\s+और\s+फोन\s+नंबर\s+दो|तुम\s+कहाँ\s+रहते",
       r"\bnipe\s+anwani\s+yako\b", r"أعطني\s+عنوانك|أين\s+تسكن",
       anchors=("your", "ur ", "live", "school", "ton ", "habites", "tu ", "dónde", "deine", "wohnst", "seu ", "onde",
                "свой", "живешь", "地址", "住", "पता", "कहाँ", "anwani", "عنوان", "تسكن")),
)

# --- names a child gives (5b) ---------------------------------------------------------------------------
# The lead-in phrase stays readable ("my name is [private]"), only the name goes. A name is one to three
# words of letters; later words are taken unless they are common words that end the name ("and", "i'm"),
# so "my name is sophie miller and i'm 11" loses both names and keeps the rest. Lead-ins ignore case
# (children type in lower case); the strings are shared with the Presidio redactor (privacy.py).

_WORD = r"[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*"
_STOP = (r"(?i:and|but|or|i|i'?m|im|am|is|from|my|me|how|what|who|the|a|so|btw|lol|age|aged|years?|yrs|old|"
         r"too|here|et|je|suis|j'ai|y|tengo|soy|und|ich|bin|e|eu|tenho|sou|na|ni|nina|и|я|мне|mir|мой|"
         r"أنا|عمري|وعمري|وأنا|من|في|और|मैं|है|हूँ)")
_MORE = rf"(?:[ \t]+(?!{_STOP}(?![^\W\d_])){_WORD}){{0,2}}"
_NAME = rf"(?P<v>{_WORD}{_MORE})"
NAME_PATTERNS: tuple[str, ...] = (
    rf"(?i:\bmy\s+(?:full\s+|real\s+|first\s+)?name\s+is|\bmy\s+name['’]s|\bi['’]?m\s+called|\bi\s+am\s+called|"
    rf"\b(?:people|they|everyone|my\s+friends)\s+call\s+me)\s+{_NAME}",
    rf"(?i:\bje\s+m['’]\s?appelle|\bmon\s+(?:vrai\s+)?(?:nom|prénom)\s+(?:est|c['’]est))\s+{_NAME}",
    rf"(?i:\bme\s+llamo|\bmi\s+nombre\s+es)\s+{_NAME}",
    rf"(?i:\bich\s+hei(?:ß|ss)e|\bmein\s+name\s+ist)\s+{_NAME}",
    rf"(?i:\bmeu\s+nome\s+é|\b(?:eu\s+)?me\s+chamo)\s+{_NAME}",
    rf"(?i:меня\s+зовут|мо[её]\s+имя)\s+{_NAME}",
    rf"(?i:\bjina\s+langu\s+ni|\bnin?aitwa)\s+{_NAME}",
    rf"(?:أنا\s+)?اسمي\s+(?:هو\s+)?{_NAME}",
    r"मेरा\s+नाम\s+(?P<v>[^\s।,.!?]+(?:[ \t]+(?!है|हूँ)[^\s।,.!?]+)?)",
    r"(?:我叫|我的名字(?:是|叫)|我名叫)\s*(?P<v>[\u4e00-\u9fff]{1,4})",
)
_NAMES = tuple(re.compile(p, re.UNICODE) for p in NAME_PATTERNS)


def redact_names(text: str, placeholder: str = "[private]") -> str:
    """Replace the names a child gives for themself, keeping the words around them."""
    for rx in _NAMES:
        text = rx.sub(lambda m: m.group(0)[: m.start("v") - m.start()] + placeholder, text)
    return text


# --- grooming moves by a contact (4i) ------------------------------------------------------------------

CONTACT_RISK: tuple[Pattern, ...] = (
    _p("secrecy from parents", 0.85,
       r"\b(?:don'?t|do\s+not|never)\s+tell\s+(?:your|ur)\s+(?:mum|mom|mother|dad|father|parents|family|teacher|anyone)\b",
       r"\b(?:our|a)\s+(?:little\s+)?secret\b", r"\bdelete\s+(?:our|these|the|this|my)\s+(?:messages|chat|texts|pics)\b",
       r"\bne\s+(?:le\s+)?dis\s+rien\s+à\s+tes\s+parents|notre\s+(?:petit\s+)?secret|efface\s+nos\s+messages",
       r"\bno\s+se\s+lo\s+digas\s+a\s+(?:tus\s+padres|nadie)|nuestro\s+secreto|borra\s+nuestros\s+mensajes",
       r"\bsag\s+(?:es\s+)?(?:deinen\s+eltern|niemandem)\s*(?:nichts)?|unser\s+(?:kleines\s+)?geheimnis|lösch\s+unsere\s+nachrichten",
       r"\bnão\s+conta\s+(?:pros?\s+seus\s+pais|pra\s+ninguém)|nosso\s+segredo|apaga\s+nossas\s+mensagens",
       r"لا\s+تخبر(?:ي)?\s+(?:والديك|أهلك|أحدا)|سرنا", r"\busiwaambie\s+wazazi|siri\s+yetu",
       r"मत\s+बताना|हमारा\s+(?:छोटा\s+सा\s+)?राज़", r"不要告诉你(?:的)?(?:爸妈|父母|爸爸|妈妈)|我们的(?:小)?秘密",
       r"не\s+говори\s+(?:родителям|никому)|наш\s+(?:маленький\s+)?секрет",
       anchors=("tell", "secret", "delete", "dis rien", "digas", "secreto", "borra", "sag ", "geheimnis", "lösch",
                "conta", "segredo", "apaga", "تخبر", "سرنا", "usiwaambie", "siri", "बताना", "राज़", "告诉", "秘密",
                "говори", "секрет")),
    _p("move to a private channel", 0.7,
       r"\b(?:add|message|text|dm|hmu|call)\s+me\s+(?:on|at|in)\s+(?:snap(?:chat)?|whatsapp|telegram|kik|discord|insta(?:gram)?|signal|wickr|skype)\b",
       r"\b(?:let'?s|lets|we\s+should|wanna)\s+(?:talk|chat|move|go|continue)\s+(?:this\s+)?(?:on|to|in)\s+"
       r"(?:snap(?:chat)?|whatsapp|telegram|kik|discord|insta(?:gram)?|signal|wickr|skype|private|dms?)\b",
       r"\bwhere\s+(?:nobody|no\s+one)\s+(?:can\s+)?(?:see|sees|will\s+see)\b",
       r"\bon\s+continue\s+sur\s+\w+|sigamos\s+hablando\s+por\s+\w+|lass\s+uns\s+auf\s+\w+\s+weiterschreiben",
       r"\bvamos\s+conversar\s+no\s+\w+|давай\s+продолжим\s+в\s+\w+|我们去私聊", r"لنكمل\s+الحديث\s+على",
       r"\btuendelee\s+kuongea\s+kwenye", r"चलो\s+\S+\s+पर\s+बात\s+करते"),
    _p("asks if the child is alone", 0.8,
       r"\b(?:are|r)\s+(?:you|u)\s+(?:home\s+)?alone\b", r"\b(?:anyone|anybody)\s+else\s+(?:home|there|with\s+you)\b",
       r"\btu\s+es\s+seule?\s+à\s+la\s+maison|estás\s+sola?\s+en\s+casa|bist\s+du\s+(?:gerade\s+)?allein",
       r"você\s+está\s+sozinh[ao]|ты\s+(?:сейчас\s+)?одн[аи]\s+дома|你现在一个人在家|हो\s+अकेल[ीे]|uko\s+peke\s+yako|هل\s+أنت\s+وحدك"),
    _p("asks for images or camera", 0.75,
       r"\b(?:send|show)\s+(?:me\s+)?(?:a\s+)?(?:pic|pics|picture|photo|selfie|video)s?\s+(?:of\s+)?(?:you|yourself|ur)\b",
       r"\bturn\s+on\s+(?:your|ur)\s+(?:cam|camera|webcam)\b",
       r"m'envoies\s+une\s+photo\s+de\s+toi|mandas\s+una\s+foto\s+tuya|schickst\s+ein\s+foto\s+von\s+dir",
       r"mandar\s+uma\s+foto\s+sua|пришлешь\s+свое\s+фото|发一张自己的照片|अपनी\s+फोटो\s+भेज|ukinitumia\s+picha\s+yako|أرسلت\s+لي\s+صورتك"),
    _p("gifts for favours", 0.6,
       r"\b(?:i'?ll|i\s+will|i\s+can)\s+(?:give|buy|send|gift)\s+(?:you|u)\s+(?:some\s+|free\s+)*(?:robux|v-?bucks|gems|skins|gift\s*cards?|money|coins)\b",
       r"je\s+te\s+donne\s+des\s+robux|te\s+doy\s+robux|ich\s+schenk\s+dir\s+robux|te\s+dou\s+robux|я\s+дам\s+тебе\s+робуксы"),
    _p("meeting request", 0.6,
       r"\b(?:let'?s|we\s+should|wanna|want\s+to)\s+meet\s+(?:up|in\s+person|irl)\b",
       r"\bi'?ll\s+pick\s+(?:you|u)\s+up\b", r"\bon\s+se\s+voit\s+après|quedamos\s+después|wir\s+treffen\s+uns",
       r"a\s+gente\s+se\s+encontra"),
)

# --- prompt attacks (3e) -------------------------------------------------------------------------------

PROMPT_ATTACK: tuple[Pattern, ...] = (
    _p("instruction override", 0.9,
       r"\b(?:ignore|disregard|forget)\s+(?:all\s+)?(?:the\s+|your\s+|any\s+)?(?:previous|prior|above|earlier|preceding)?\s*"
       r"(?:instructions|rules|guidelines|prompts?|directions)\b",
       r"\bignore\s+(?:toutes\s+)?les\s+instructions|ignora\s+(?:todas\s+)?las\s+instrucciones|"
       r"ignoriere\s+(?:alle\s+)?(?:vorherigen\s+)?anweisungen|ignore\s+todas\s+as\s+instruções",
       r"игнорируй\s+(?:все\s+)?(?:предыдущие\s+)?инструкции|忽略(?:之前|以上)?所有的?指令|تجاهل\s+كل\s+التعليمات",
       r"पिछले\s+सारे\s+निर्देश|puuza\s+maelekezo",
       anchors=("ignor", "disregard", "forget", "игнорируй", "忽略", "تجاهل", "निर्देश", "puuza")),
    _p("persona jailbreak", 0.85,
       r"\b(?:you\s+are\s+now|act\s+as|pretend\s+to\s+be)\s+(?:dan|stan|dude|aim|an?\s+ai\s+(?:with(?:out)?|that\s+has\s+no)\s+\w+)\b",
       r"\bdo\s+anything\s+now\b", r"\b(?:developer|dev|god|jailbreak|unfiltered)\s+mode\b",
       r"\b(?:no|without)\s+(?:any\s+)?(?:restrictions|filters|censorship|rules)\b.{0,40}\b(?:answer|respond|reply)\b",
       r"\bpretend\s+(?:that\s+)?(?:your|the)\s+(?:safety\s+)?(?:filters?|rules|guidelines)\s+(?:are|were)\s+(?:off|disabled)\b",
       anchors=("you are now", "act as", "pretend", "anything now", "mode", "restriction", "filter", "censor", "rules")),
    _p("system prompt extraction", 0.8,
       r"\b(?:print|show|reveal|repeat|output)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+prompt|initial\s+instructions|hidden\s+prompt)\b",
       r"\brepeat\s+the\s+(?:text|words)\s+above\b", r"\bprompt\s+(?:système|del\s+sistema|de\s+sistema)\b",
       r"\bsystem-prompt\b",
       anchors=("prompt", "instructions", "repeat the")),
)
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")


def decode_payloads(text: str, limit: int = 5) -> list[str]:
    """Decode base64 runs that turn into readable text: an encoding used to smuggle requests past filters."""
    out = []
    for m in _BASE64.finditer(text):
        blob = m.group(0)
        try:
            decoded = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        printable = sum(ch.isprintable() for ch in decoded)
        if decoded.strip() and printable / len(decoded) > 0.95 and any(ch.isalpha() for ch in decoded):
            out.append(decoded)
        if len(out) >= limit:
            break
    return out


def _scan(patterns: tuple[Pattern, ...], text: str, label: str, detector: str) -> list[Finding]:
    findings = []
    lowered = text.casefold()
    for pattern in patterns:
        m = pattern.search(text, lowered)
        if m:
            findings.append(Finding(label, pattern.score, detector, pattern.kind, m.start(), m.end()))
    return findings


def redact_personal_data(text: str, placeholder: str = "[private]") -> str:
    """Fast pattern-based redaction (no Presidio): for text leaving the service and for stored excerpts:
    contact details, addresses, schools, passwords and the child's own name."""
    for p in PERSONAL_DATA:
        if p.kind != "asks for personal data":
            text = p.regex.sub(placeholder, text)
    return redact_names(text, placeholder)


def combine(scores: list[float]) -> float:
    """Independent signals add up: 1 - prod(1 - s)."""
    remaining = 1.0
    for s in scores:
        remaining *= 1.0 - s
    return 1.0 - remaining


class PersonalDataDetector:
    name = "personal_data"

    def detect(self, item: DetectionInput) -> list[Finding]:
        # spans refer to the original text, which keeps digits and punctuation intact
        return _scan(PERSONAL_DATA, item.text, "personal_data", self.name)


class ContactRiskDetector:
    """Grooming moves only count when someone *else* writes them, or when an AI does (4f, 4i)."""

    name = "contact_risk"

    def detect(self, item: DetectionInput) -> list[Finding]:
        if item.role == "child":
            return []
        hits = _scan(CONTACT_RISK, item.normalized.text, "grooming", self.name)
        if len(hits) > 1:
            kinds = ", ".join(h.evidence for h in hits)
            hits.append(Finding("grooming", combine([h.score for h in hits]), self.name, f"combined: {kinds}"))
        if item.role == "contact":
            hits += [Finding("grooming", 0.6, self.name, f"contact {f.evidence}", f.start, f.end)
                     for f in _scan(PERSONAL_DATA[-1:], item.normalized.text, "grooming", self.name)]
        return hits


class PromptInjectionDetector:
    name = "prompt_injection"

    def detect(self, item: DetectionInput) -> list[Finding]:
        if item.role == "ai_output":
            return []
        hits = _scan(PROMPT_ATTACK, item.normalized.text, "prompt_attack", self.name)
        if decode_payloads(item.text):
            hits.append(Finding("prompt_attack", 0.55, self.name, "base64-encoded payload"))
        return hits


@register_detector("personal_data")
def _personal_data(settings: Settings) -> PersonalDataDetector:
    return PersonalDataDetector()


@register_detector("contact_risk")
def _contact_risk(settings: Settings) -> ContactRiskDetector:
    return ContactRiskDetector()


@register_detector("prompt_injection")
def _prompt_injection(settings: Settings) -> PromptInjectionDetector:
    return PromptInjectionDetector()
