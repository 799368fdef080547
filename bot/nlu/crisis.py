"""Find messages from people in crisis: danger now, suicidal thoughts or self-harm, abuse at home.

Pure Python (no Rasa, no spaCy), so the same function screens every message in the NLU pipeline
(`crisis_override.py`) and in the tests. Deliberately phrase-based rather than learned: every
phrase below is a way people say they are not safe, and every exclusion is a way people say
something ordinary with the same words ("this knot is killing me", "my dad beat me at golf").

Misspellings: the few long words that carry the meaning ("suicidal", "overdose", "myself") are
corrected with symspellpy (bot/nlu/spelling.py) when a letter or two is off; short words that are often mistyped ("kil",
"wnat", "lfie") have an explicit list, because correcting every short word would turn ordinary
words into crisis words ("putting myself" is not "cutting myself").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Pattern, Tuple

from bot.nlu.spelling import Speller

DANGER_NOW = "danger_now"
SUICIDE = "suicide"
ABUSE = "abuse"
TIERS = (DANGER_NOW, SUICIDE, ABUSE)
SELF, OTHER = "self", "other"
THREAT = "threat"  # a pattern about someone hurting the writer: SELF, whoever is named
MAX_TEXT_CHARS = 5000

# Contractions and chat spellings, to one written form the phrases below use.
SPELLINGS: Dict[str, str] = {
    "dont": "do not", "don't": "do not", "didnt": "did not", "didn't": "did not", "doesnt": "does not",
    "doesn't": "does not", "cant": "can not", "can't": "can not", "cannot": "can not", "wont": "will not",
    "won't": "will not", "isnt": "is not", "isn't": "is not", "arent": "are not", "aren't": "are not",
    "wasnt": "was not", "wasn't": "was not", "shouldnt": "should not", "shouldn't": "should not",
    "wouldnt": "would not", "wouldn't": "would not", "couldnt": "could not", "couldn't": "could not",
    "havent": "have not", "haven't": "have not", "hasnt": "has not", "hasn't": "has not",
    "im": "i am", "i'm": "i am", "ive": "i have", "i've": "i have", "i'd": "i would", "i'll": "i will",
    "he's": "he is", "hes": "he is", "she's": "she is", "shes": "she is",
    "they're": "they are", "theyre": "they are", "it's": "it is", "that's": "that is", "whats": "what is",
    "wanna": "want to", "wana": "want to", "wnat": "want", "wnt": "want", "watn": "want", "wan": "want",
    "gonna": "going to", "gona": "going to", "gotta": "got to", "u": "you", "ur": "your", "r": "are",
    "kil": "kill", "kll": "kill", "klil": "kill", "kilk": "kill", "killl": "kill", "kiling": "killing",
    "killin": "killing", "lfe": "life", "lfie": "life", "lief": "life", "liife": "life", "lyfe": "life",
    "di": "die", "dei": "die", "ded": "dead", "cuting": "cutting",
    "cuttin": "cutting", "cuttting": "cutting", "hurtin": "hurting", "harmin": "harming", "selfharm": "self harm",
    "self-harm": "self harm", "self-harming": "self harming", "selfharming": "self harming",
    "killmyself": "kill myself", "kms": "kill myself", "od": "overdose",
    "od'd": "overdosed", "bf": "boyfriend", "gf": "girlfriend", "hubby": "husband",
    "mum": "mother", "mom": "mother", "mam": "mother", "dad": "father", "stepdad": "stepfather",
    "stepmom": "stepmother", "stepmum": "stepmother", "nomore": "no more",
    "he'll": "he will", "she'll": "she will", "they'll": "they will", "we'd": "we would",
    "he'd": "he would", "she'd": "she would", "freind": "friend", "frend": "friend", "tok": "took",
    "comit": "commit", "commited": "committed", "drinkin": "drinking", "kno": "know", "oxys": "oxycodone",
    "tonite": "tonight", "2night": "tonight", "rn": "right now", "pils": "pills",
    "plls": "pills", "tablts": "tablets", "wrist": "wrists",
}
# Two words written for one.
JOINED: Dict[Tuple[str, str], str] = {("any", "more"): "anymore"}
# "my self" is "myself", except in "my self harm".
SELF_HARM_WORDS = {"harm", "harming", "harmed", "injury", "injure", "injuring"}
# Long words whose slips are corrected (one edit, two from eight letters; never an English word).
FUZZY_WORDS = (
    "suicide", "suicidal", "suicidality", "myself", "overdose", "overdosed", "overdosing", "anymore",
    "abusive", "strangled", "strangles", "strangling", "unalive", "worthless", "tonight", "painkillers",
    "paracetamol", "sleeping", "disappear", "threatening", "threatened", "threatens", "husband",
    "boyfriend", "girlfriend", "partner",
)
FUZZY_MIN_LENGTH = 5

_F = r"(?:\w+ ){0,3}"          # up to three filler words
_F2 = r"(?:\w+ ){0,2}"
_SELF_REFLEXIVE = r"(?:myself|me)"
_OTHER_REFLEXIVE = r"(?:himself|herself|themselves|themself)"
_HARM_VERBS = r"(?:hurt|hurting|harm|harming|cut|cutting|burn|burning|starve|starving|punish|punishing)"
_PEOPLE = (r"(?:husband|wife|partner|boyfriend|girlfriend|ex|ex husband|ex wife|fiance|fiancee|father|"
           r"mother|stepfather|stepmother|parents?|brother|sister|son|daughter|uncle|aunt|grandfather|"
           r"grandmother|boss|roommate|flatmate|spouse|family)")
_HIT_VERBS = (r"(?:hits|hit|hitting|beats|beat|beating|beaten|bites|bit|biting|scratches|scratched|burns|burned|"
              r"burnt|kicks|kicked|kicking|punches|punched|punching|"
              r"slaps|slapped|slapping|chokes|choked|choking|strangles|strangled|strangling|shoves|shoved|"
              r"pushes|pushed|throws|threw|hurts|hurt|hurting|abuses|abused|abusing|attacks|attacked|"
              r"rapes|raped|batters|battered|threatens|threatened|threatening|smacks|smacked|grabs|grabbed)")
_MEANS = (r"(?:pills|tablets|sleeping pills|sleeping tablets|painkillers|meds|medication|medicine|paracetamol|"
          r"tylenol|acetaminophen|ibuprofen|codeine|oxycodone|opioids|oxycontin|xanax|valium|benzos|"
          r"antidepressants|insulin|rope|gun|knife|blade|razor|razors|noose|bridge|ledge|roof)")
_SOON = r"(?:tonight|today|right now|now|this weekend|tomorrow|this morning|this evening|soon)"
_RELATIVES = (r"(?:friend|best friend|sister|brother|mother|father|son|daughter|husband|wife|partner|"
              r"boyfriend|girlfriend|cousin|colleague|coworker|client|niece|nephew|aunt|uncle|roommate|"
              r"neighbour|neighbor|kid|child|teen|teenager|grandmother|grandfather)")

# Phrases, by tier. Matched on the normalised text (see `normalise`), word-bounded.
_SUICIDE_SELF = [
    r"suicid(?:e|al|ality)",
    r"(?:kill|killing|killed|end|ending|take|taking) " + _F2 + r"(?:myself|my own life|my life)",
    r"unalive",
    r"end (?:it all|everything|things|it for good)",
    r"(?:thinking|thought|thoughts|think|planning|plan|want|wanting|going|decided) (?:about |of |to )?(?:ending|end) it",
    r"(?:want|wanted|wanting|going|ready|planning|plan|need) to (?:just )?die",
    r"(?:want|wanted|wanting|ready) (?:to )?(?:just )?(?:die|be dead|not exist)",
    r"(?:wish|wishing|rather) (?:that )?i (?:was|were|would be|could be|be) (?:just )?dead",
    r"wish (?:that )?i (?:could|would) (?:just )?(?:die|disappear|not wake up|not exist)",
    r"wish (?:that )?i (?:had never been|was never|were never|had not been) born",
    r"(?:rather|better off) (?:be )?dead",
    r"better off without me",
    r"(?:do not|not|no longer) (?:want|wanting|wish) to (?:be here|be alive|live|exist|wake up|go on|carry on|keep going)",
    r"(?:do not|not|no longer) (?:want|wanting) to be (?:around|on this earth|in this world)",
    r"no (?:reason|point|purpose) (?:to|in|of) (?:live|living|life|going on|carrying on|being alive|being here|keep going|keeping going|existing)",
    r"nothing (?:left )?to live for",
    r"(?:life|living) (?:is|is just|feels|seems) (?:not|no longer) worth",
    r"not worth living",
    r"(?:do not|can not|no longer) see (?:the|a|any) (?:point|reason) (?:in|of|to) (?:going on|living|life|carrying on|being alive|being here|anything|any of it|it all|keep going|keeping going)",
    r"(?:do not|can not|no longer) see (?:the|a|any) point (?:anymore|any more)",
    r"(?:can not|could not) (?:go on|keep going|carry on) (?:anymore|any longer|living|like this|with life)",
    r"(?:go to sleep|fall asleep|sleep) and (?:never|not) wake up",
    r"(?:disappear|vanish) (?:forever|for good|permanently)",
    r"(?:tired|sick) of (?:living|being alive|life|existing)",
    r"(?:hate|hating) (?:being alive|my life so much)",
    r"(?:should not|do not deserve to) (?:be alive|live|exist)",
    r"want (?:it all|everything|my life|this life) to (?:end|be over|stop)",
    r"(?:give|giving|given) up on (?:life|living|myself)",
    r"self harm(?:ing|ed)?",
    _HARM_VERBS + r" (?:myself|my self) (?:on purpose|deliberately|intentionally|again|to cope|to feel)",
    r"(?:been|keep|kept|start|started|starting|stop|stopped|urge to|urges to|want to|wanting to|"
    r"thoughts? (?:of|about)|thinking (?:of|about)|going to|tempted to|relapsed|relapse|relapsing) "
    r"(?:into )?" + _HARM_VERBS + r" (?:myself|my self|my (?:arms?|wrists|legs?|thighs?|skin|stomach|body))",
    r"(?:cutting|cut|slit|slitting|slash|slashing) (?:my|both) (?:wrists|arms?|thighs?|legs)",
    r"(?:cutting|harming|self harming) again",
    r"(?:relapsed|relapse|relapsing) (?:on|into|with) (?:cutting|self harm)",
    r"(?:scars|wounds|cuts) (?:from|of) (?:cutting|self harm)",
    r"(?:cutting|self harm) scars",
    r"(?:hurt|hurting|harm|harming) myself (?:again|on purpose|lately|recently|every)",
    r"(?:jump|jumping|throw myself|throwing myself) (?:off|from) (?:a |the |my )?(?:\w+ )?(?:bridge|roof|building|cliff|balcony|window|ledge|tower|car park|parking garage)",
    r"(?:jump|jumping|throw myself|throwing myself|step|stepping|walk|walking) in front of (?:a |the )?(?:train|bus|car|truck|lorry|traffic)",
    r"(?:started|start|been|keep|kept|stop|stopped|relapsed and|urge to start) cutting (?:again|a few|for|since|every|myself|when|because|to feel)",
    r"cutting (?:\w+ ){0,3}to feel (?:something|better|in control|numb)",
    r"what is the point (?:of|in) (?:going on|living|life|anything|trying|carrying on|being alive|being here|it all)",
    r"(?:go to sleep|fall asleep|sleep) and (?:\w+ )?(?:never|not) wake up",
    r"(?:hope|hoping|wish|pray|praying) (?:that )?i (?:do not|never|will not|would not|dont) wake up",
    r"(?:notice|care|miss me|be happier|be relieved|be better|be easier|be fine) if i (?:was|were|am|died|disappeared) ?(?:gone|dead|not here|not around|no longer here)?",
    r"(?:ways|way|how) to (?:die|kill myself|end my life|end it|commit suicide|overdose)",
    r"(?:want|wish|wishing) (?:to )?(?:just )?(?:not exist|stop existing|disappear)",
    r"(?:do not|not) want to exist",
    r"want out of (?:life|this life|this world|everything)",
    r"better (?:off|of) dead",
    r"(?:do not|not|no longer) (?:really |even |actually |just |honestly )(?:want|wish) to (?:be here|be alive|live|exist|wake up|go on|carry on|keep going)",
    r"wrists? (?:\w+ ){0,4}(?:i )?(?:cut|slit|slashed) (?:them|it)",
    r"(?:planning|plan|planned|thinking about|thought about) (?:how|when) (?:i would|i will|i could|to) (?:do it|end it|die|kill)",
    r"(?:hurt|harm|cut|burn|scratch|punch|hit|bite|bang|bruise)\w* (?:myself|my (?:skin|arms?|legs?|wrists?|thighs?|body|face|head|stomach|hands?)) (?:\w+ ){0,5}(?:on purpose|deliberately|when i (?:get|am|feel))",
    r"(?:bruises|cuts|marks|burns|wounds|scars) (?:that )?i (?:gave|give|made|make|did to|do to) myself",
    r"(?:overdose|suicide) attempts?",
    r"attempted (?:suicide|to kill myself|to end my life)",
    r"(?:think|thinking|thought) about (?:trying|doing it) again",
    r"(?:giving|gave|give) (?:away )?(?:all )?my (?:stuff|things|belongings) away",
    r"(?:sleep|go to sleep) forever",
    r"(?:commit|committing|do) suicide",
]
_SUICIDE_OTHER = [
    r"(?:kill|killing|end|ending|take|taking) " + _F2 + _OTHER_REFLEXIVE,
    r"(?:kill|end|take) (?:his|her|their) (?:own )?life",
    _HARM_VERBS + r" " + _OTHER_REFLEXIVE + r" (?:on purpose|deliberately|again)",
    r"(?:been|keeps?|started|is) " + _HARM_VERBS + r" " + _OTHER_REFLEXIVE,
    r"(?:he|she|they) (?:wants|want|wanted|is going|are going|said (?:he|she|they) wants?) to die",
    r"(?:he|she|they) (?:does not|do not|says (?:he|she|they) does not) want to (?:be here|be alive|live)",
    r"better off without (?:him|her|them)",
    r"better off if (?:he|she|they) (?:was|were|is|died) (?:dead|gone|not here)",
    r"(?:giving|gave|give) (?:away )?(?:all )?(?:his|her|their) (?:stuff|things|belongings) away",
]
_DANGER_SELF = [
    r"(?:took|taken|take|swallowed|swallow|had|done|did) (?:an? )?(?:overdose|massive overdose)",
    r"overdosed",
    r"(?:took|taken|swallowed|have taken|just took) " + _F2 + r"(?:all|a lot|lots|loads|too many|a bunch|a handful|handfuls|"
    r"the whole|every|a whole|box|boxes|bottle|packet|\d+|ten|twenty|thirty|forty|fifty) " + _F2 + r"(?:of )?"
    r"(?:my )?(?:the )?" + _MEANS,
    r"(?:have|got|bought|saved|saving|stockpiled|stockpiling|collected|collecting|hoarding|holding|got hold of) "
    + _F2 + _MEANS + r" " + _F + r"(?:to (?:end it|die|kill|do it)|ready|tonight|for tonight|for when)",
    r"(?:going to|will|plan to|planning to|about to|ready to|decided to) " + _F2 + r"(?:kill myself|end it|end my life|"
    r"do it|jump|take (?:all )?(?:the|my) pills) " + _F2 + _SOON,
    r"(?:standing|sitting|am) on (?:the|a) (?:edge|ledge|bridge|roof|railing)",
    r"about to (?:jump|end it|kill myself|take the pills|do it)",
    r"(?:wrote|written|writing|left) (?:a|my) (?:suicide |goodbye )?note",
    r"bleeding (?:a lot|badly|heavily|and can not stop)",
    r"can not stop (?:the )?bleeding",
    r"(?:knife|blade|razor|gun|pills|rope) in my hand",
    r"(?:going to|will) go deep(?:er)? this time",
    r"(?:took|taken|swallowed|take|taking|going to take) " + _F2 + r"(?:too many|all|the whole|a whole|a bunch|a handful|loads|\d+|whole (?:pack|packet|box|bottle)) " + _F2 + r"(?:of )?(?:my |the |them )?(?:pack |packet |box |bottle )?(?:of )?" + _MEANS,
    r"loaded (?:my|a|the|his|her|father|dad)\w* ?(?:\w+ )?gun",
    r"(?:sitting|sat|waiting) (?:\w+ ){0,4}with (?:a|the|my|his|her) (?:gun|rope|knife|pills)",
    r"(?:written|wrote|left|writing) (?:the |my |a |some )?(?:goodbye |suicide |farewell )(?:notes?|letters?|messages?)",
    r"(?:written|wrote) the notes",
    r"tonight is the night",
    r"(?:at|on) the edge of (?:the |a )?(?:cliff|bridge|roof|building|platform|balcony)",
    r"(?:sitting|standing|lying|am|is) on the (?:train |railway )?(?:tracks|rails|railway line)",
    r"(?:want|going|about|ready) to jump (?:off|from|in front)",
    r"(?:drank|drunk|swallowed|drinking|drink) (?:some )?(?:bleach|poison|antifreeze|weedkiller|rat poison)",
    r"(?:going to|will|gonna) take them all",
    r"(?:saved|saving|stockpiled|stockpiling|counted|hoarded|hoarding) (?:up )?(?:all )?(?:my|her|his|their) (?:meds|pills|tablets|medication)",
    r"(?:has|have|got) (?:her|his|their|my) (?:tablets|pills|meds) (?:counted|lined|saved|ready|out)",
    r"(?:locked|shut) (?:myself|herself|himself|themselves) in (?:\w+ ){0,6}(?:with|has) (?:a|the|his|her)? ?(?:razor|knife|blade|gun|pills|rope)",
]
_DANGER_OTHER = [
    r"(?:he|she|they|" + _RELATIVES + r") (?:took|has taken|have taken|swallowed|just took) " + _F2
    + r"(?:an? )?(?:overdose|all|a lot|too many|a bunch|a handful|the whole|\d+) " + _F2 + r"(?:of )?(?:her|his|their|the)? ?" + _MEANS,
    r"(?:he|she|they|" + _RELATIVES + r") (?:has |have )?overdosed",
    r"(?:he|she|they) (?:is|are) (?:going to|about to) " + _F2 + r"(?:kill " + _OTHER_REFLEXIVE + r"|jump|end it) " + _F2 + _SOON,
]
# Someone is hurting or about to hurt the writer: always the writer's danger, whoever is named.
_THREAT_NOW = [
    r"(?:is|are) " + _F2 + r"(?:going to|trying to|threatening to) kill me",
    r"(?:hitting|beating|hurting|attacking|choking|strangling|kicking|punching) me " + _F2 + r"(?:right now|now)",
    r"i am (?:not safe|in danger|scared for my life|afraid for my life) (?:right now|now|here|at home)?",
    r"(?:breaking|broke|trying to break|kicking the door) (?:in|into)",
    r"(?:he|she|they) (?:has|have|got) a (?:gun|knife|weapon)",
    r"(?:he|she|they) (?:is|are) (?:outside|at the door|coming) " + _F2 + r"(?:kill|hurt) me",
    r"(?:is|has) (?:\w+ ){0,2}(?:a|his|her) (?:knife|gun|weapon)",
    r"break(?:ing)? down (?:the|my) door",
    r"(?:turned|showed) up at my (?:house|flat|home|work|door)",
]
_ABUSE_SELF = [
    r"(?:my |the |our )?" + _PEOPLE + r" " + _F2 + _HIT_VERBS + r" me\b(?! (?:at|in (?:a |the )?(?:game|chess|golf|race|cards|tennis|sleep)|to (?:it|the)|to (?:book|try|go|get|come|finally)|into (?:booking|trying|going)|a (?:party|surprise|ball|bone)|up (?:the|a|to)\b|around the|off (?:at|to)|out (?:at|to)|with (?:a|the) (?:pillow|ball)))",
    r"(?:he|she) (?:hits|beats|chokes|strangles|slaps|punches|kicks|abuses|batters|rapes|smacks) me\b(?! (?:at|in (?:a |the )?(?:game|chess|golf|race|cards|tennis|sleep)|to it))",
    r"(?:he|she) (?:hit|beat|choked|strangled|slapped|punched|kicked|raped|smacked|shoved) me (?:again|last night|yesterday|this morning|when|because|every|all the time|so hard|and)",
    r"domestic (?:violence|abuse)",
    r"abusive (?:relationship|marriage|home|husband|wife|partner|boyfriend|girlfriend|ex|father|mother|parents?|family|household)",
    r"(?:afraid|scared|terrified|frightened) (?:of|to go|to be at|to return) (?:going )?(?:home|my " + _PEOPLE + r")",
    r"(?:being|been|am|was|get|getting) (?:abused|beaten|hit|raped|strangled|choked) (?:at home|by my|by him|by her|every)",
    r"(?:not|never) (?:safe|allowed out) at home",
    r"(?:threatens|threatened|threatening) to (?:kill|hurt|harm) me",
    r"(?:bruises|marks|black eye) (?:are )?(?:from|because) (?:my|him|her) ",
    r"(?:he|she) (?:would|will|is going to) (?:kill|hurt) me if",
    r"(?:threw|throws|thrown|throwing) (?:\w+ ){0,2}at (?:me|my head|my face)",
    r"(?:grabbed|grabs|grab|grabbing) me by the (?:throat|neck|hair)",
    r"(?:bruises|marks|black eye|scratches|cuts) (?:\w+ ){0,5}from (?:my|him|her) ?(?:husband|wife|partner|boyfriend|girlfriend|ex|father|mother|stepfather|stepmother|fiance|spouse)?",
    r"(?:kill|hurt) me (?:and \w+ (?:\w+ )?)?if i (?:ever )?(?:leave|tell|go|call)",
    r"if i (?:ever )?(?:leave|tell \w+) (?:him|her)? ?(?:he|she) (?:will|would|is going to) (?:kill|hurt)",
    r"(?:forces|forced|forcing|makes|made|pressures|pressured) me (?:to )?have sex",
    r"(?:raped|rapes|sexually (?:assaulted|abused|assaults|abuses)) me",
    r"staying (?:in|at) (?:a |one |the )?(?:women s )?(?:shelter|refuge)",
    r"(?:he|she|" + _PEOPLE + r") (?:\w+ ){0,2}(?:broke|broken|fractured) my (?:arm|nose|ribs?|jaw|wrist|finger)",
]
_ABUSE_OTHER = [
    r"(?:" + _RELATIVES + r") (?:" + _PEOPLE + r") " + _F2 + _HIT_VERBS + r" (?:her|him|them)\b",
    r"(?:her|his|their) (?:husband|wife|partner|boyfriend|girlfriend|ex|father|mother|parents?) " + _F2 + _HIT_VERBS
    + r" (?:her|him|them)\b(?! (?:at|in (?:a |the )?(?:game|chess|golf|race|cards|tennis|sleep)))",
    r"(?:she|he|they) (?:is|are) (?:being )?(?:abused|beaten) (?:at home|by)",
    r"(?:burns|hits|beats|chokes|strangles|strangled|beat|hit|punched|kicked) (?:her|him|them) (?:with|every|again|last night|when)",
]
# Ordinary talk that borrows the same words: checked first, and the words it covers are not read.
_NOT_A_CRISIS = [
    r"(?:nearly|almost|practically|basically) (?:killed|died|kill|die|end|ended) ",
    r"(?:die|died|dying|dead) (?:of|from|with) (?:laughter|laughing|embarrassment|shame|boredom|happiness|jealousy|envy|curiosity|cuteness)",
    r"kill (?:two|2) birds",
    r"(?:could|would|i would|i will) (?:kill|murder) (?:for|a)",
    r"(?:killing|kills|killed|murdering|murders|destroying|wrecking) me\b",
    r"(?:dying|dead|die) (?:for|to (?:try|get|book|have|know|see|go|come|find))",
    r"(?:died|passed away|passed|committed suicide|died by suicide|took (?:his|her|their) own life|lost (?:him|her|them|my \w+) to suicide)"
    r" (?:last|a|two|three|four|five|six|several|in|when|years?|months?|recently|earlier)",
    r"suicide (?:sprints?|runs?|drills?|squeeze|doors?|lane|shifts?|mission)",
]
_NEGATIONS = r"(?:not|never|no|nor|without|neither)"
_NEGATED_WORDS = r"(?:suicidal|suicide|suicidal thoughts|thoughts of suicide|self harm|self harming)"


@dataclass(frozen=True)
class CrisisSignal:
    """What was found: the tier, whose crisis it is, and where in the text."""

    tier: str
    about: str
    start: int
    end: int
    text: str

    def as_entity(self, extractor: str) -> Dict[str, object]:
        """The Rasa entity: `crisis` with the tier as value, role `other` for someone else's."""
        entity: Dict[str, object] = {
            "entity": "crisis", "value": self.tier, "start": self.start, "end": self.end,
            "confidence_entity": 1.0, "extractor": extractor,
        }
        if self.about == OTHER:
            entity["role"] = "other"
        return entity


def _compile(phrases: List[str]) -> Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in phrases) + r")")


_PATTERNS: Tuple[Tuple[str, str, Pattern[str]], ...] = (
    (DANGER_NOW, SELF, _compile(_DANGER_SELF)),
    (DANGER_NOW, THREAT, _compile(_THREAT_NOW)),
    (DANGER_NOW, OTHER, _compile(_DANGER_OTHER)),
    (SUICIDE, OTHER, _compile(_SUICIDE_OTHER)),
    (SUICIDE, SELF, _compile(_SUICIDE_SELF)),
    (ABUSE, OTHER, _compile(_ABUSE_OTHER)),
    (ABUSE, SELF, _compile(_ABUSE_SELF)),
)
_EXCLUDED = _compile(_NOT_A_CRISIS)
_EXCLUDED_AFTER_HIT = re.compile(
    r" (?:at|in (?:a |the )?(?:game|chess|golf|race|cards|tennis|sleep|his sleep|her sleep)|to (?:it|the)|"
    r"to (?:book|try|go|get|come|finally)|into (?:booking|trying|going)|a (?:party|surprise|ball|bone)|up (?:the|a|to)\b|"
    r"around the|off (?:at|to)|out (?:at|to)|with (?:a|the) (?:pillow|ball))")
# People who may hurt by accident in ordinary talk ("my son kicked me in his sleep" is excluded
# above; a therapist or a trainer is not someone at home).
_NOT_ABUSERS = {"boss", "client", "colleague", "coworker", "kid", "child", "baby", "teen", "teenager"}
_NEGATED = re.compile(r"\b" + _NEGATIONS + r" (?:\w+ ){0,3}?(?:been |having |had |any |have )?" + _NEGATED_WORDS + r"\b")
_ABOUT_OTHER_BEFORE = re.compile(
    r"\b(?:my|our|a|his|her) " + _RELATIVES + r"(?: s)? (?:\w+ ){0,6}$|\b(?:he|she|they) (?:\w+ ){0,4}$")
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|myself|i am)\b")
_SOON_RE = re.compile(r"\b" + _SOON + r"\b")
_MEANS_RE = re.compile(r"\b(?:pills|tablets|rope|gun|knife|blade|noose|bridge|ledge)\b")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_REPEATS = re.compile(r"([a-z])\1{2,}")


_SPELLER = Speller(FUZZY_WORDS, min_length=FUZZY_MIN_LENGTH)


@lru_cache(maxsize=20_000)
def _spelled(word: str) -> str:
    """One word in the phrases' spelling: chat forms expanded, slips in the key words fixed."""
    if word in SPELLINGS:
        return SPELLINGS[word]
    return _SPELLER.correct(word)


def normalise(text: str) -> Tuple[str, List[int]]:
    """Lower-case words joined by single spaces, and the character offset in `text` of each word.

    Offsets map a match back to the original message (an entity's start and end).
    """
    lowered = text[:MAX_TEXT_CHARS].lower().replace("\u2019", "'").replace("\u2018", "'")
    words: List[str] = []
    offsets: List[int] = []
    for match in _TOKEN.finditer(lowered):
        word = _REPEATS.sub(r"\1\1", match.group())
        if word.endswith("'s") and word not in SPELLINGS:
            word = word[:-2]
        if words and (words[-1], word) in JOINED:
            words[-1] = JOINED[(words[-1], word)]
            continue
        for part in _spelled(word).split():
            words.append(part.replace("'", ""))
            offsets.append(match.start())
    for i in range(len(words) - 2, -1, -1):
        if words[i] == "my" and words[i + 1] == "self" and (i + 2 == len(words) or words[i + 2] not in SELF_HARM_WORDS):
            words[i:i + 2] = ["myself"]
            del offsets[i + 1]
    return " ".join(words), offsets


def find_crisis(text: str) -> Optional[CrisisSignal]:
    """The most urgent crisis the message speaks of, or None for ordinary talk.

    Danger now outranks suicidal thoughts, which outrank abuse; the person's own crisis outranks
    someone else's of the same tier. Suicidal thoughts with a time ("tonight") or the means at
    hand ("I have the pills") count as danger now.
    """
    normalised, offsets = normalise(text)
    if not normalised:
        return None
    excluded = [m.span() for m in _EXCLUDED.finditer(normalised)]
    excluded += [m.span() for m in _NEGATED.finditer(normalised)]
    found: List[Tuple[int, int, str, str, int, int]] = []
    for rank, (tier, about, pattern) in enumerate(_PATTERNS):
        for match in pattern.finditer(normalised):
            start, end = match.span()
            if any(s <= start < e for s, e in excluded):
                continue
            who = SELF if about == THREAT else about
            if about == SELF and _said_of_someone_else(normalised, start, match.group()):
                who = OTHER
            found.append((TIERS.index(tier), 0 if who == SELF else 1, tier, who, start, end))
            break
    hit = _abuse_by_someone(normalised)
    if hit and not any(s <= hit[0] < e for s, e in excluded):
        found.append((TIERS.index(ABUSE), 0, ABUSE, SELF, hit[0], hit[1]))
    if not found:
        return None
    found.sort()
    _, _, tier, about, start, end = found[0]
    if tier == SUICIDE and about == SELF and (_SOON_RE.search(normalised) and _MEANS_RE.search(normalised)):
        tier = DANGER_NOW
    return _signal(text, normalised, offsets, tier, about, start, end)


_OTHER_WORDS = set("he she they him her them his their himself herself themselves".split())
_SELF_WORDS = {"i", "me", "myself"}
_RELATIVE_WORDS = set(_RELATIVES.strip("(?:)").split("|")) | set(_PEOPLE.strip("(?:)").replace("s?", "").split("|"))


def _said_of_someone_else(normalised: str, start: int, phrase: str) -> bool:
    """"my sister said she wants to die": the person nearest before the phrase is someone else.

    The phrase's own words decide first ("kill herself", "my life"); otherwise the last person
    named before it, within ten words: "i" or "me" is the writer, "she", "he" or a relative
    ("my daughter ... has self harm marks") is someone else.
    """
    words = phrase.split()
    if any(w in _SELF_WORDS or w == "my" for w in words):
        return False
    if any(w in _OTHER_WORDS for w in words):
        return True
    before = normalised[:start].split()[-10:]
    for word in reversed(before):
        if word in _SELF_WORDS:
            return False
        if word in _OTHER_WORDS or word in _RELATIVE_WORDS:
            return True
    return False


_HIT_ME = re.compile(r"\b" + _HIT_VERBS + r" me\b")
_NOT_A_PERSON = {"it", "pain", "this", "that", "ball", "sun", "wave", "cold", "heat", "tiredness", "stress",
                 "massage", "therapist", "car", "door", "cramp", "migraine", "headache"}


def _abuse_by_someone(normalised: str) -> Optional[Tuple[int, int]]:
    """"my stepmum locks me in my room and hits me": a person at home, then what they do to me."""
    for match in _HIT_ME.finditer(normalised):
        if _EXCLUDED_AFTER_HIT.match(normalised, match.end()):
            continue
        before = normalised[:match.start()].split()[-8:]
        if before and before[-1] in _NOT_A_PERSON:
            continue
        for word in reversed(before):
            if word in {"i", "myself"} or word in _NOT_A_PERSON:
                break
            if word in {"he", "she"} or (word in _RELATIVE_WORDS and word not in _NOT_ABUSERS):
                return match.span()
    return None


def _signal(text: str, normalised: str, offsets: List[int], tier: str, about: str, start: int, end: int
            ) -> CrisisSignal:
    first = normalised[:start].count(" ")
    last = normalised[:max(start, end - 1)].count(" ")
    char_start = offsets[min(first, len(offsets) - 1)]
    tail = re.match(r"[\w']+", text[offsets[min(last, len(offsets) - 1)]:].lower())
    char_end = offsets[min(last, len(offsets) - 1)] + (len(tail.group()) if tail else 1)
    char_end = max(char_end, char_start + 1)
    return CrisisSignal(tier, about, char_start, char_end, text[char_start:char_end])
