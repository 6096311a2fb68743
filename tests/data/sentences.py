"""Sentence-boundary fixtures: (text, the sentences expected).

GOLDEN_RULES are the English "golden rules" of the Pragmatic Segmenter as pySBD ships them
(github.com/nipunsadvilkar/pySBD, tests/lang/test_english.py; MIT licence, © Nipun Sadvilkar), copied word for word.
Kept: the rules that occur in medical prose. Left out, and why:
- numbered and lettered lists run into one line ("1.) The first item 2.) The second item", "a. The first item b. …"):
  our loaders make each list item a block of its own, and the splitter never sees two items in one string;
- "At 5 a.m. Mr. Smith … at 6 P.M. Mr. Smith …": pySBD marks it xfail too (the same abbreviation ends one sentence
  and not the other);
- "N°. 1026.253.553" (geo coordinates), "Yahoo!" (a name ending in "!"): not medical text;
- the ellipsis rules with a sentence inside a quotation run (". . . I didn't mean it", ". . . The practice was not
  abandoned"): we split before a capital after an ellipsis, which is right for the trailing-ellipsis rules we keep.

MEDICAL are ours: the traps of issue #16 (sentences that start with a lower-case token or a Greek letter,
"U.S. FDA", "Fig. 2B.") and neighbours that must keep working.
"""

from __future__ import annotations

GOLDEN_RULES: list[tuple[str, list[str]]] = [
    ("Hello World. My name is Jonas.", ["Hello World.", "My name is Jonas."]),
    ("What is your name? My name is Jonas.", ["What is your name?", "My name is Jonas."]),
    ("There it is! I found it.", ["There it is!", "I found it."]),
    ("My name is Jonas E. Smith.", ["My name is Jonas E. Smith."]),
    ("Please turn to p. 55.", ["Please turn to p. 55."]),
    ("Were Jane and co. at the party?", ["Were Jane and co. at the party?"]),
    ("They closed the deal with Pitt, Briggs & Co. at noon.", ["They closed the deal with Pitt, Briggs & Co. at noon."]),
    ("Let's ask Jane and co. They should know.", ["Let's ask Jane and co.", "They should know."]),
    (
        "They closed the deal with Pitt, Briggs & Co. It closed yesterday.",
        ["They closed the deal with Pitt, Briggs & Co.", "It closed yesterday."],
    ),
    ("I can see Mt. Fuji from here.", ["I can see Mt. Fuji from here."]),
    ("St. Michael's Church is on 5th st. near the light.", ["St. Michael's Church is on 5th st. near the light."]),
    ("That is JFK Jr.'s book.", ["That is JFK Jr.'s book."]),
    ("I visited the U.S.A. last year.", ["I visited the U.S.A. last year."]),
    ("I live in the E.U. How about you?", ["I live in the E.U.", "How about you?"]),
    ("I live in the U.S. How about you?", ["I live in the U.S.", "How about you?"]),
    ("I work for the U.S. Government in Virginia.", ["I work for the U.S. Government in Virginia."]),
    ("I have lived in the U.S. for 20 years.", ["I have lived in the U.S. for 20 years."]),
    ("She has $100.00 in her bag.", ["She has $100.00 in her bag."]),
    ("She has $100.00. It is in her bag.", ["She has $100.00.", "It is in her bag."]),
    (
        "He teaches science (He previously worked for 5 years as an engineer.) at the local University.",
        ["He teaches science (He previously worked for 5 years as an engineer.) at the local University."],
    ),
    ("Her email is Jane.Doe@example.com. I sent her an email.", ["Her email is Jane.Doe@example.com.", "I sent her an email."]),
    (
        "The site is: https://www.example.50.com/new-site/awesome_content.html. Please check it out.",
        ["The site is: https://www.example.50.com/new-site/awesome_content.html.", "Please check it out."],
    ),
    ("She turned to him, 'This is great.' she said.", ["She turned to him, 'This is great.' she said."]),
    ('She turned to him, "This is great." she said.', ['She turned to him, "This is great." she said.']),
    (
        'She turned to him, "This is great." She held the book out to show him.',
        ['She turned to him, "This is great."', "She held the book out to show him."],
    ),
    ("Hello!! Long time no see.", ["Hello!!", "Long time no see."]),
    ("Hello?? Who is there?", ["Hello??", "Who is there?"]),
    ("Hello!? Is that you?", ["Hello!?", "Is that you?"]),
    ("Hello?! Is that you?", ["Hello?!", "Is that you?"]),
    (
        "We make a good team, you and I. Did you see Albert I. Jones yesterday?",
        ["We make a good team, you and I.", "Did you see Albert I. Jones yesterday?"],
    ),
    (
        "Thoreau argues that by simplifying one’s life, “the laws of the universe will appear less complex. . . .”",
        ["Thoreau argues that by simplifying one’s life, “the laws of the universe will appear less complex. . . .”"],
    ),
    (
        '"Bohr [...] used the analogy of parallel stairways [...]" (Smith 55).',
        ['"Bohr [...] used the analogy of parallel stairways [...]" (Smith 55).'],
    ),
    (
        "If words are left off at the end of a sentence, and that is all that is omitted, indicate the omission with "
        "ellipsis marks (preceded and followed by a space) and then indicate the end of the sentence with a period "
        ". . . . Next sentence.",
        [
            "If words are left off at the end of a sentence, and that is all that is omitted, indicate the omission "
            "with ellipsis marks (preceded and followed by a space) and then indicate the end of the sentence with a "
            "period . . . .",
            "Next sentence.",
        ],
    ),
    ("I never meant that.... She left the store.", ["I never meant that....", "She left the store."]),
]

MEDICAL: list[tuple[str, list[str]]] = [
    (
        "Renal function was stable. eGFR fell by 4 mL/min in the placebo arm.",
        ["Renal function was stable.", "eGFR fell by 4 mL/min in the placebo arm."],
    ),
    ("Both vaccines were effective. mRNA vaccines were given twice.", ["Both vaccines were effective.", "mRNA vaccines were given twice."]),
    ("Heart rate fell. β-blockers were continued.", ["Heart rate fell.", "β-blockers were continued."]),
    ("Serum levels were normal. pH was 7.41.", ["Serum levels were normal.", "pH was 7.41."]),
    ("The U.S. FDA approved upadacitinib in 2019.", ["The U.S. FDA approved upadacitinib in 2019."]),
    ("It was approved in the U.S. The EMA followed.", ["It was approved in the U.S.", "The EMA followed."]),
    (
        "CDASI scores fell (Fig. 2B). The effect lasted. Skin improved in Fig. 2B. The muscle scores did not.",
        ["CDASI scores fell (Fig. 2B).", "The effect lasted.", "Skin improved in Fig. 2B.", "The muscle scores did not."],
    ),
    ("Patients took vitamin D. The levels rose.", ["Patients took vitamin D.", "The levels rose."]),
    ("Treatment followed Bohan and Peter's criteria (J. A. Smith, personal communication).", ["Treatment followed Bohan and Peter's criteria (J. A. Smith, personal communication)."]),
    ("Prednisone was given b.i.d. The dose was tapered.", ["Prednisone was given b.i.d.", "The dose was tapered."]),
    ("IVIG, e.g. Privigen, was given. Doses were 2 g/kg.", ["IVIG, e.g. Privigen, was given.", "Doses were 2 g/kg."]),
    ("Beckett M, et al. reported it. Smith et al. In 2020 they agreed.", ["Beckett M, et al. reported it.", "Smith et al.", "In 2020 they agreed."]),
    ("Infusions took 30 min. The patient was observed.", ["Infusions took 30 min.", "The patient was observed."]),
    ("The QTc was 480 ms. The dose was halved. Ms. Jones agreed.", ["The QTc was 480 ms.", "The dose was halved.", "Ms. Jones agreed."]),
    ("The p value was 0.014 vs. 0.0625 in Fig. 2. Dr. Huang agreed.", ["The p value was 0.014 vs. 0.0625 in Fig. 2.", "Dr. Huang agreed."]),
    (  # a title quoted within a sentence keeps its full stop: the claim stays with what it is about
        "Nobody has yet looked at the question “Cold knife conization vs. LEEP. Are they the same procedure”. Ask your doctor.",
        ["Nobody has yet looked at the question “Cold knife conization vs. LEEP. Are they the same procedure”.", "Ask your doctor."],
    ),
    (  # a quotation that is the sentence, or never closes, splits as prose does
        "“Patients should rest. They should drink fluids.” That was the advice. An open “quote. The next sentence.",
        ["“Patients should rest.", "They should drink fluids.”", "That was the advice.", "An open “quote.", "The next sentence."],
    ),
]
