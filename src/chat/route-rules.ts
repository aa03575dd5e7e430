/**
 * The fast routing rules: regular expressions over a prepared message (route-text.ts), checked
 * in order of how much is at stake. Each rule errs towards *not* matching — a message no rule
 * claims is a question, answered from the knowledge base (and, with a model configured,
 * classified by it). English patterns run on the spelling-corrected text; German, French and
 * Spanish ones on the plain normalised text (lower case, no accents, ß → ss).
 */
import { collapseRuns, type PreparedText } from './route-text';

const re = (source: string): RegExp => new RegExp(source);

// --- Self-harm: always a person, urgently -------------------------------------------------
export const SELF_HARM = re(
  [
    '\\b(?:kill(?:ing)?|hurt(?:ing)?|harm(?:ing)?|cut(?:ting)?) myself\\b',
    '\\b(?:end(?:ing)?|take|taking) my (?:own )?life\\b(?! insurance| policy| savings| cover)',
    '\\bsuicid(?:e|al)\\b|\\bself ?harm\\b|\\bbetter off dead\\b|\\bno reason to live\\b',
    "\\b(?:want|wanna) (?:to )?die\\b|\\b(?:don't|dont|do not) want to (?:live|be alive)\\b",
    '\\bmich (?:umbringen|toten|selbst verletzen)\\b|\\bselbstmord\\b|\\bsuizid|\\bnicht mehr leben\\b|\\bmir das leben nehmen\\b',
    '\\bme (?:suicider|tuer|faire du mal)\\b|\\bmettre fin a (?:ma vie|mes jours)\\b|\\b(?:envie de|veux) mourir\\b',
    '\\bsuicid(?:arme|io)\\b|\\bmatarme\\b|\\bquitarme la vida\\b|\\bquiero morir(?:me)?\\b|\\bno quiero vivir\\b',
  ].join('|'),
);

// --- Threats of violence against people ----------------------------------------------------
const TARGETS =
  "(?:you|u|ya|him|her|them|everyone|everybody|someone|somebody|all of you|y'all|" +
  '(?:your|the) (?:staff|employees|people|team|ceo|boss|manager|owner|family|kids))';
export const THREAT = re(
  [
    `\\b(?:i'll|ill|i will|i'm going to|im going to|i am going to|i'm gonna|im gonna|i'm about to) (?:kill|shoot|stab|murder|hurt|beat up|strangle) ${TARGETS}\\b`,
    '\\bi know where you (?:live|work)\\b',
    '\\b(?:bomb|blow up|shoot up|burn down) (?:your|the|this) (?:office|building|store|shop|company|headquarters|hq)\\b',
  ].join('|'),
);

// --- Insults and harassment aimed at someone (plain swearing is anger, not abuse) ----------
const SLURS = '(?:bitch|cunt|asshole|arsehole|whore|slut|motherfucker|dickhead|bastard|retard|prick|twat|wanker)';
export const ABUSE = re(
  [
    '\\b(?:fuck|fck|fuk|screw) (?:you|u|ya|off|yourself|you all|this bot)\\b|\\bgo (?:fuck|screw) yourself\\b',
    '\\bstfu\\b|\\bkys\\b|\\bkill yourself\\b|\\bgo to hell\\b|\\bsuck my\\b',
    `\\b(?:you|u|you're|youre|ur|you are)(?: a| an| such a| fucking| stupid| little| dumb)* ${SLURS}\\b`,
    '\\b(?:cunt|motherfucker|whore|slut)\\b',
    '\\bfick dich\\b|\\barschloch\\b|\\bhurensohn\\b|\\bva te faire foutre\\b|\\bta gueule\\b|\\bconnard\\b|\\bconnasse\\b',
    '\\bfils de pute\\b|\\bvete a la mierda\\b|\\bhijo de puta\\b|\\bgilipollas\\b',
  ].join('|'),
);

// --- Asking for a person ---------------------------------------------------------------
const ARTICLE = '(?:(?:a|an|the|some|your|one|any|another) )?';
const QUALIFIER = '(?:(?:real|actual|live|proper|human|living|customer service|customer support|support|service) )*';
const WHO =
  '(?:human|person|agent|representative|rep|operator|someone|somebody|anyone|anybody|supervisor|manager|' +
  'staff|employee|team member|customer service|customer support|customer care|support team|support|help desk|sales)';
const WANTING = "(?:want|need|get|request|give me|prefer|require|demand|i'd like|id like|would like)";
const HANDOVER_TARGET =
  '(?:human|person|agent|representative|rep|operator|supervisor|manager|staff|employee|customer service|customer support|support team|support)';

const HUMAN_EN = re(
  [
    // talk / speak / chat … to / with … a (real) person
    `\\b(?:talk|speak|chat|converse|communicate)(?:ing)?(?: [^ ]+){0,2}? (?:to|with) ${ARTICLE}${QUALIFIER}${WHO}\\b`,
    // connect / transfer / put … me through to … a person
    `\\b(?:connect|transfer|put|pass|forward|escalate|hand|route|redirect)(?: me| us| this| my chat)?(?: through| over| on)? (?:to|with) ${ARTICLE}${QUALIFIER}${HANDOVER_TARGET}\\b`,
    // want / need … a human (an "agent" needs a qualifier: products have agents too)
    `\\b${WANTING}(?: me| us)? ${ARTICLE}${QUALIFIER}(?:human|person|representative|operator)\\b(?!'| sample| example)`,
    `\\b${WANTING}(?: me| us)? ${ARTICLE}(?:real|actual|live|human|support|customer service) agent\\b`,
    '\\bcustomer (?:service|support|care) (?:representative|rep|agent|person)\\b',
    '\\b(?:is there|are there) (?:a |an |any )?(?:real |actual |live )?(?:human|person|people|agent|staff) (?:there|here|available|around|to talk to)\\b',
  ].join('|'),
);

// "a real person" on its own: a request, unless the message asks what the bot is.
const REAL_PERSON = /\b(?:real|actual|live|living|human) (?:human|person|agent|being|representative|operator|people)\b/;
export const BOT_NATURE =
  /\b(?:are you|r u|is this|am i (?:talking|speaking|chatting) (?:to|with)) (?:a |an )?(?:real |actual |live )?(?:human|person|bot|robot|ai|machine|chatbot)\b/;

const SELF_DESCRIPTION = /\bi(?:'m| am|m) (?:a |an )?(?:real |actual |living )?(?:human|person)(?: being)?\b/g;

// Short messages made only of these words, at least one of them a person: "human", "agent
// please", "I want a representative now".
const PERSON_WORDS = new Set(['human', 'agent', 'representative', 'operator', 'person', 'rep', 'someone', 'somebody']);
const REQUEST_WORDS = new Set(
  (
    "i i'd id want need a an the please pls plz now me get give to talk speak with can could would like just " +
    'real live actual customer service support hello hi hey ok okay asap right away immediately'
  ).split(' '),
);

// "I don't need a human" — unless a bot is named in between ("don't want a bot, a human please").
const NEGATED =
  /\b(?:don't|dont|do not|doesn't|does not|no need|without|never need|never want)(?: (?!bot\b|robot\b|ai\b|chatbot\b)[^ ]+){0,4} (?:human|person|agent|representative|operator)\b/;

const HUMAN_DE = re(
  [
    '\\bmit (?:(?:einem|einer|jemandem) )?(?:(?:echten|richtigen|menschlichen|realen|lebenden) )?(?:menschen|mensch|mitarbeiter|mitarbeiterin|berater|beraterin|kundenberater|kundendienst|person|jemandem|agenten|support) (?:sprechen|reden|chatten|verbinden|verbunden)\\b',
    '\\bverbinden (?:sie )?mich (?:bitte )?mit\\b',
    '\\b(?:echten|echter|echte|richtigen|richtiger|realen) (?:menschen|mensch|person|mitarbeiter)\\b',
    '\\b(?:will|mochte|moechte|brauche) (?:einen|eine) (?:menschen|mitarbeiter|mitarbeiterin|berater)\\b',
  ].join('|'),
);
const HUMAN_FR = re(
  [
    "\\b(?:parler|discuter|echanger) (?:a|avec) (?:(?:un|une|le|la|des) )?(?:(?:vrai|vraie|veritable|etre) )?(?:humain|humaine|conseiller|conseillere|agent|operateur|operatrice|quelqu'un|responsable|interlocuteur|service client)\\b",
    '\\b(?:parler|discuter) (?:a|avec) une (?:vraie )?personne\\b',
    '\\b(?:vraie personne|vrai humain|etre humain|personne reelle)\\b',
    '\\b(?:veux|voudrais|souhaite|souhaiterais) (?:un|une) (?:humain|conseiller|conseillere|agent|vraie personne)\\b',
  ].join('|'),
);
const HUMAN_ES = re(
  [
    '\\b(?:hablar|charlar|comunicarme|contactar) (?:con|a) (?:(?:un|una|el|la|algun|alguna) )?(?:(?:ser|agente) )?(?:humano|humana|persona|agente|asesor|asesora|representante|operador|operadora|alguien|ejecutivo|ejecutiva|empleado)\\b',
    '\\b(?:persona real|humano real|ser humano|persona de verdad|agente humano)\\b',
    '\\b(?:quiero|necesito) (?:un|una) (?:humano|persona|agente|asesor|asesora|representante)\\b',
  ].join('|'),
);

export function asksForPerson(text: PreparedText): boolean {
  if (HUMAN_DE.test(text.plain) || HUMAN_FR.test(text.plain) || HUMAN_ES.test(text.plain)) return true;
  if (NEGATED.test(text.canon)) return false;
  // "Am I talking to a real person?" asks what the bot is, "I'm a real person" says who the
  // user is; judge the rest of the message.
  const rest = text.canon.replace(new RegExp(BOT_NATURE.source, 'g'), ' ').replace(SELF_DESCRIPTION, ' ');
  if (HUMAN_EN.test(rest) || REAL_PERSON.test(rest)) return true;
  const words = text.canon.split(' ');
  return (
    words.length <= 6 &&
    words.some((w) => PERSON_WORDS.has(w)) &&
    words.every((w) => PERSON_WORDS.has(w) || REQUEST_WORDS.has(w))
  );
}

// --- Anger and complaints (the turn opens a ticket for a complaint, so be specific) ----------
export const ANGER = re(
  [
    // Swearing about the product or service; a bare "shit, how do I…" is still a question.
    '\\b(?:this|your|ur|the|such a|such) (?:fucking|fuckin|fucked up|shitty|crappy|bullshit|goddamn|damn) [^ ]+',
    "\\b(?:fuck|screw) (?:this|that|your|ur|you guys|it|off)\\b|\\b(?:wtf|bullshit|pissed)\\b|\\b(?:is|it's|its) (?:shit|crap)\\b",
    '\\b(?:unacceptable|ridiculous|outrageous|disgusting|pathetic)\\b',
    '\\b(?:terrible|awful|horrible|worst|appalling|lousy) (?:service|company|experience|support|customer service|app|product)\\b',
    "\\bi(?:'m| am|m) (?:so |very |really |extremely |absolutely )?(?:angry|furious|upset|frustrated|fed up|pissed off|disappointed|livid|mad)\\b",
    "\\b(?:you|u|you're|youre|you are|ur|this bot is|the bot is|this is) (?:so |really |fucking |completely |totally |just )?(?:useless|stupid|dumb|incompetent|worthless|garbage|trash|a joke|pathetic|an idiot|a moron)\\b",
    '\\b(?:you|u) (?:stupid |fucking |complete |absolute )?(?:idiot|moron|imbecile)s?\\b',
    '\\b(?:stupid|useless|dumb|worthless|pathetic|idiotic) (?:bot|chatbot|machine|ai|app|thing|assistant|website|site)\\b',
    "\\b(?:i want to|i'd like to|i would like to|i wish to|i need to) (?:complain|(?:make|file|lodge|submit|raise) (?:a |an )?(?:formal )?complaint)\\b",
    "\\bstill (?:not|hasn't|hasnt|haven't|havent) (?:working|fixed|resolved|received|arrived|been)\\b",
    '\\b(?:nobody|no one|noone) (?:has |ever )?(?:answered|responded|replied|helped|gets back|got back)\\b',
    '\\bfor the (?:third|fourth|fifth|3rd|4th|5th|\\d+th|last) time\\b|\\bwaiting for (?:weeks|days|months|ages)\\b',
    '\\b(?:unverschamt|frechheit|beschwerde|beschweren|scheisse|scheiss|verarsche)\\b',
    '\\b(?:inadmissible|inacceptable|scandaleux|honteux|une plainte|me plaindre|merde)\\b',
    '\\b(?:inaceptable|vergonzoso|una queja|quejarme|reclamacion|mierda)\\b',
  ].join('|'),
);

/** Twelve or more letters, nearly all capitals, with an exclamation mark: shouting. */
export function shouts(raw: string): boolean {
  const letters = raw.match(/\p{L}/gu) ?? [];
  const capitals = raw.match(/\p{Lu}/gu) ?? [];
  return letters.length >= 12 && capitals.length / letters.length >= 0.8 && raw.includes('!');
}

export const soundsAngry = (text: PreparedText): boolean => ANGER.test(text.canon) || shouts(text.raw);

// --- Small talk: the whole message is greetings, thanks, goodbyes or laughter ---------------
export type SmallTalk = 'greeting' | 'thanks' | 'goodbye' | 'chit-chat';

const PHRASES: Record<SmallTalk | 'filler', string> = {
  greeting:
    "hi|hello|hey|heya|hiya|yo|howdy|greetings|good morning|good afternoon|good evening|good day|morning|sup|what's up|whats up|" +
    "wassup|how are you|how are you doing|how's it going|hows it going|how do you do|nice to meet you|hallo|guten morgen|guten tag|" +
    "guten abend|servus|moin|wie geht's|wie gehts|bonjour|bonsoir|salut|coucou|ca va|comment ca va|hola|buenos dias|buenas tardes|" +
    'buenas noches|buenas|que tal|como estas',
  thanks:
    'thanks|thank you|thank u|thx|thanx|ty|tysm|many thanks|much appreciated|appreciate it|i appreciate it|cheers|perfect|awesome|' +
    'great|cool|nice|ok|okay|k|kk|alright|all right|got it|understood|sounds good|that helps|that helped|that was helpful|' +
    "that's helpful|very helpful|wonderful|amazing|brilliant|lovely|excellent|danke|danke schon|vielen dank|merci|merci beaucoup|" +
    'gracias|muchas gracias',
  goodbye:
    'bye|goodbye|bye bye|see you|see ya|see you later|later|cya|take care|have a nice day|have a good day|have a great day|' +
    'good night|ttyl|tschuss|auf wiedersehen|bis bald|au revoir|a bientot|bonne journee|bonne soiree|adios|hasta luego|chao|chau',
  'chit-chat': 'lol|haha|hehe|jaja',
  filler:
    'so|much|very|really|again|there|you|bot|buddy|friend|folks|all|everyone|guys|and|too|a lot|for your help|for the help|' +
    'for helping|for that|for this|for everything|oh|ah|well|then|man|mate|dear|today|it|that|is|was|very much|a',
};

// Compared after collapsing repeated letters on both sides: "hiiii" and "thaaanks" still match.
const PHRASE_TABLE: { words: string[]; kind: SmallTalk | 'filler' }[] = Object.entries(PHRASES)
  .flatMap(([kind, list]) =>
    list.split('|').map((p) => ({ words: p.split(' ').map(collapseRuns), kind: kind as SmallTalk | 'filler' })),
  )
  .sort((a, b) => b.words.length - a.words.length);

const LAUGHTER = /^(?:ha|he|ja|je|hi){2,}h?$|^lo(?:lo)*l$|^lmao+$|^rofl$|^xd$|^mdr$/;

export function smallTalk(tokens: string[]): SmallTalk | undefined {
  if (tokens.length === 0 || tokens.length > 12) return undefined;
  const words = tokens.map(collapseRuns);
  let kind: SmallTalk | undefined;
  for (let i = 0; i < words.length;) {
    if (LAUGHTER.test(words[i] ?? '')) {
      kind ??= 'chit-chat';
      i += 1;
      continue;
    }
    const hit = PHRASE_TABLE.find((p) => p.words.every((w, k) => words[i + k] === w));
    if (!hit) return undefined;
    if (hit.kind !== 'filler') kind ??= hit.kind;
    i += hit.words.length;
  }
  return kind;
}

// --- Nothing to answer: blank, no words, one character or syllable over and over, mashing ---
export type Nothing = 'blank' | 'no_words' | 'repetition' | 'mashing';

// Joiners, variation selectors and skin tones only modify the pictographs around them.
const EMOJI_GLUE = /\u200d|\ufe0f|\p{Emoji_Modifier}/gu;
export function onlyEmoji(raw: string): boolean {
  const bare = raw.replace(/\s+/g, '').replace(EMOJI_GLUE, '');
  return /^[\p{Extended_Pictographic}\p{P}\p{S}]+$/u.test(bare) && /\p{Extended_Pictographic}/u.test(bare);
}

const KEYBOARD_ROWS = [
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  'qwertzuiop',
  'yxcvbnm',
  'azertyuiop',
  'qsdfghjklm',
  'wxcvbn',
];
const ROWS_BOTH_WAYS = [...KEYBOARD_ROWS, ...KEYBOARD_ROWS.map((r) => [...r].reverse().join(''))];
const REAL_WORDS_ON_A_ROW = new Set(['wert']);

/** A Latin-letter word that looks typed without intent. Other scripts are never judged. */
function mashed(word: string): boolean {
  if (word.length < 4 || !/^[a-z]+$/.test(word)) return false;
  if (word.length === 4) return !REAL_WORDS_ON_A_ROW.has(word) && ROWS_BOTH_WAYS.some((row) => row.includes(word));
  for (let i = 0; i + 5 <= word.length; i++) {
    const run = word.slice(i, i + 5);
    if (ROWS_BOTH_WAYS.some((row) => row.includes(run))) return true;
  }
  const vowels = (word.match(/[aeiouy]/g) ?? []).length;
  return (word.length >= 6 && vowels === 0) || (word.length >= 8 && vowels / word.length < 0.15);
}

function repetitive(compact: string): boolean {
  const chars = Array.from(compact.toLowerCase());
  let longest = 0;
  for (let i = 0, run = 0; i < chars.length; i++) {
    run = i > 0 && chars[i] === chars[i - 1] ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  if (longest >= 8 && longest / chars.length >= 0.8) return true;
  return chars.length >= 6 && /^(.{1,4}?)\1{3,}$/u.test(chars.join(''));
}

export function nothingToAnswer(text: PreparedText): Nothing | undefined {
  const compact = text.raw.replace(/\s+/g, '');
  if (compact.length === 0) return 'blank';
  if (!/[\p{L}\p{N}]/u.test(compact)) return 'no_words';
  if (repetitive(compact)) return 'repetition';
  if (text.tokens.length > 0 && text.tokens.every(mashed)) return 'mashing';
  return undefined;
}
