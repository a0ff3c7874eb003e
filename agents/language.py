"""Which language a customer writes in, when it is clearly not the one the knowledge base serves.

A stop-word count, not a statistical model: the only question asked is "is this clearly not
English?", and short English questions ("is it free?", "card declined") must never be taken
for another language, which general-purpose detectors (langdetect, langid) do on two or
three words. Function words are what a language cannot avoid and what English never uses;
a message needs two of them (and more of them than English ones) to count. Nothing is
loaded or downloaded: the lists below are the whole model.
"""

from __future__ import annotations

import re
import unicodedata

# Frequent function words of each language that are not English words too (no "a", "in",
# "die", "son", "come", "men", "has"…): a false "not English" costs a customer an answer.
_STOPWORDS = {
    "de": (
        "ich mich mir mein meine meinen meiner nicht und ist sind wie wo warum wann "
        "bitte habe hast haben hatte kann können könnte möchte würde wurde werden der das "
        "dem den des ein eine einen einem einer mit auf für von zu zum zur nach bei "
        "aus über noch schon auch aber oder wenn dass sie wir ihr euch uns unser kein "
        "keine nichts etwas bestellung paket lieferung rücksendung geld zurück hallo danke "
        "guten tag sprechen jemand gibt"
    ),
    "fr": (
        "je j'ai moi mon ma mes ne pas est sont comment où pourquoi quand le la les "
        "un une des du au aux avec pour dans sur par qui que quoi mais ou et vous nous "
        "votre vos notre je suis avez avoir être peux pouvez puis voudrais aimerais "
        "commande colis livraison remboursement bonjour merci parler quelqu'un c'est "
        "n'est ai été"
    ),
    "es": (
        "yo mi mis me no es son cómo como dónde donde por qué porque cuándo cuando el "
        "la los las un una unos unas con para en del al que qué pero o y usted ustedes "
        "nosotros su sus estoy está están tengo tiene puedo puede quiero quisiera "
        "pedido paquete envío devolución reembolso hola gracias hablar alguien hay"
    ),
    "it": (
        "io mi mio mia miei non è sono come dove perché quando il lo la gli le un uno "
        "una con per nel nella del della che ma o e lei voi noi suo sua ho ha posso può "
        "voglio vorrei ordine pacco spedizione rimborso ciao buongiorno grazie parlare "
        "qualcuno c'è"
    ),
    "nl": (
        "ik mij mijn niet en is zijn hoe waar waarom wanneer de het een met voor op "
        "van naar bij uit ook maar of als dat jullie wij ons onze geen iets bestelling "
        "pakket levering terugbetaling hallo dank bedankt spreken iemand kan wil graag"
    ),
    "pt": (
        "eu meu minha meus não é são como onde porquê quando o os as um uma com para "
        "em do da dos das que mas ou e você vocês nós seu sua estou está tenho tem "
        "posso pode quero gostaria pedido pacote entrega reembolso olá obrigado "
        "obrigada falar alguém"
    ),
}
# English function words: a message with as many of these as foreign ones stays English
# ("I want a refund por favor").
_ENGLISH_WORDS = (
    "i me my you your we our it is are was were be been the a an and or but not no "
    "to of in on for with at by from how what when where why who which can could "
    "would should will do does did have has had this that there here please"
)
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
# Words that are function words elsewhere but also everyday English (or banking English)
# words: never counted as evidence of another language.
_SHARED_WORDS = (
    "die den son come men has also art fast gift hat war will bald o e y as ai eu com con per "
    "par van met hay yo tag ha um dove lo ho uno os dos del al"
)
_SHARED = _ENGLISH | frozenset(_SHARED_WORDS.split())
_WORDS = {lang: frozenset(words.split()) - _SHARED for lang, words in _STOPWORDS.items()}

LANGUAGE_NAMES = {
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
    "other": "another language",
}

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _non_latin_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    other = sum(1 for c in letters if not unicodedata.name(c, "").startswith("LATIN"))
    return other / len(letters)


def foreign_language(text: str, *, served: str = "en") -> str | None:
    """Return the code of the language ``text`` is clearly written in, unless it is ``served``.

    None when the message is English, too short to tell, or only borrows a word or two.
    Only English is served by this detector's lists; another ``served`` turns it off.
    """
    if served != "en":
        return None
    # Cyrillic, Greek, Arabic, Hebrew, CJK, …: no English knowledge base answers these.
    if _non_latin_share(text) > 0.5:
        return "other"
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if len(tokens) < 2:
        return None
    english = sum(1 for t in tokens if t in _ENGLISH)
    best, best_count = None, 0
    for lang, words in _WORDS.items():
        count = sum(1 for t in tokens if t in words)
        if count > best_count:
            best, best_count = lang, count
    if best is None or best_count < 2 or best_count <= english:
        return None
    # At least a third of the words: a product name or a greeting in passing is not enough.
    if best_count * 3 < len(tokens):
        return None
    return best
