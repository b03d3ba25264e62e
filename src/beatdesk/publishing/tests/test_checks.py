"""Pre-publication checks: each check flags what it should, spans point at it, clean posts pass."""

from __future__ import annotations

from beatdesk.publishing.checks import LIMITS, Finding, Media, run_checks

CLEAN = "Thanks to everyone who came to the PCSO surgery at Abbeyfield library today!"


def check(text: str, **kwargs) -> list[Finding]:
    kwargs.setdefault("networks", ["x"])
    return run_checks(text, **kwargs)


def of(findings: list[Finding], name: str) -> list[Finding]:
    return [f for f in findings if f.check == name]


def flagged(text: str, finding: Finding) -> list[str]:
    return [text[s:e] for s, e in finding.spans]


# --- clean -----------------------------------------------------------------------------------


def test_friendly_clean_post_has_no_findings():
    assert run_checks(CLEAN, networks=list(LIMITS), media=[Media("Officers at a stall")]) == []


# --- personal_data ---------------------------------------------------------------------------


def test_phone_and_registration_block_with_spans():
    text = "Seen the driver of AB12 CDE? Call Dave on 07700 900123."
    found = of(check(text), "personal_data")
    blocks = [f for f in found if f.severity == "block"]
    assert sorted(flagged(text, f)[0] for f in blocks) == ["07700 900123", "AB12 CDE"]


def test_force_numbers_are_not_personal_data():
    assert of(check("Call 101, or 999 in an emergency."), "personal_data") == []


def test_names_warn_but_are_info_in_an_appeal():
    text = "Have you seen Jake Smith, aged 15? He is missing from home."
    (name,) = of(check(text), "personal_data")
    assert name.severity == "warn"
    assert flagged(text, name) == ["Jake Smith"]
    (appeal,) = of(check(text, post_type="appeal"), "personal_data")
    assert appeal.severity == "info"
    assert flagged(text, appeal) == ["Jake Smith"]


# --- victim ----------------------------------------------------------------------------------


def test_victim_word_blocks():
    text = "The injured party was taken to hospital."
    (finding,) = of(check(text), "victim")
    assert finding.severity == "block"
    assert flagged(text, finding) == ["injured party"]
    assert "anonymity" in finding.message


def test_the_woman_who_was_attacked_blocks():
    text = "We have spoken to the woman who was attacked and are supporting her."
    (finding,) = of(check(text), "victim")
    assert flagged(text, finding) == ["the woman who was attacked"]


def test_named_person_with_offence_blocks():
    text = "Mary Brown, 72, of Dudley Road was burgled last night."
    (finding,) = of(check(text), "victim")
    assert finding.severity == "block"
    assert flagged(text, finding) == ["Mary Brown", "72", "Dudley Road", "burgled"]


def test_named_person_with_exact_address_blocks():
    text = "Mr John Patel of 14 Dudley Road spoke to us today."
    (finding,) = of(check(text), "victim")
    assert flagged(text, finding) == ["John Patel", "14 Dudley Road"]


def test_no_victim_finding_for_officer_or_general_advice():
    assert of(check("PC Jones attended a burglary report."), "victim") == []
    assert of(check("If you have been a victim of fraud, contact Victim Support."), "victim") == []
    assert of(check("A man was attacked on the High Street. Any info, call 101."), "victim") == []


# --- sub_judice ------------------------------------------------------------------------------


def test_charged_full_name_and_surname_block():
    text = "JOHN SMITH, 25, of Dudley, will appear in court on 3 May. Smith is remanded."
    (finding,) = of(check(text, charged_names=["John Smith"]), "sub_judice")
    assert finding.severity == "block"
    assert flagged(text, finding) == ["JOHN SMITH", "Smith"]
    assert "contempt of court" in finding.message
    assert finding.message.startswith("John Smith has been charged")


def test_charged_surname_alone_matches():
    text = "Smith will appear at Westmere Magistrates' Court on 3 May."
    (finding,) = of(check(text, charged_names=["John Smith"]), "sub_judice")
    assert flagged(text, finding) == ["Smith"]


def test_charged_name_not_mentioned_or_part_of_a_word():
    text = "A blacksmith's forge was broken into. Enquiries continue."
    assert of(check(text, charged_names=["John Smith"]), "sub_judice") == []


def test_prejudicial_words_with_charged_warn():
    text = "This thug has finally been charged. Finally caught!"
    (finding,) = of(check(text), "sub_judice")
    assert finding.severity == "warn"
    assert flagged(text, finding) == ["thug", "Finally caught"]


def test_prejudicial_words_without_a_charge_are_left_alone():
    assert of(check("No evil spirits here, just pumpkins. Happy Halloween!"), "sub_judice") == []


def test_charged_name_is_not_also_a_personal_data_warning():
    text = "Mr John Smith has been charged with burglary."
    findings = check(text, charged_names=["John Smith"])
    assert [f.check for f in findings] == ["sub_judice"]


# --- banned_words ----------------------------------------------------------------------------


def test_banned_words_block_as_whole_words():
    text = "Another Scrote nicked; scrotes beware. SCROTE!"
    (finding,) = of(check(text, banned_words=["scrote", "nicked"]), "banned_words")
    assert finding.severity == "block"
    assert flagged(text, finding) == ["Scrote", "nicked", "SCROTE"]
    assert '"scrote"' in finding.message and '"nicked"' in finding.message


def test_banned_words_not_inside_other_words():
    assert of(check("Our scarecrow competition", banned_words=["crow"]), "banned_words") == []


# --- tone ------------------------------------------------------------------------------------


def test_press_release_wording_warns_with_plain_suggestions():
    text = (
        "A male was apprehended in the vicinity of the park in relation to a theft. "
        "Officers are in attendance and a female is assisting."
    )
    found = of(check(text), "tone")
    assert all(f.severity == "warn" for f in found)
    pairs = [(flagged(text, f)[0], f.suggestion) for f in found]
    assert pairs == [
        ("A male was apprehended", "We arrested a man"),
        ("in the vicinity of", "near"),
        ("in relation to", "about"),
        ("Officers are in attendance", "Officers are there"),
        ("a female", "a woman"),
        ("assisting", "helping"),
    ]


def test_more_tone_phrases():
    text = "At this moment in time the aforementioned officers attended the scene and proceeded."
    suggestions = [f.suggestion for f in of(check(text), "tone")]
    assert suggestions == ["Now", "this", "went there", "went"]
    text = "We will commence patrols and utilise drones to assist."
    assert [f.suggestion for f in of(check(text), "tone")] == ["start", "use", "help"]


def test_plain_wording_is_left_alone():
    text = "We arrested a man near the park. Our assistant chief constable thanked residents."
    assert of(check(text), "tone") == []


# --- accessibility ---------------------------------------------------------------------------


def test_image_without_alt_text_blocks():
    findings = of(check(CLEAN, media=[Media("A police dog"), Media("  ")]), "accessibility")
    (finding,) = findings
    assert finding.severity == "block"
    assert "Image 2" in finding.message and "alt text" in finding.message


def test_lower_case_hashtag_warns_with_camel_case():
    text = "Bin it, don't carry it. #knifecrimeawareness #StaySafe"
    (finding,) = of(check(text), "accessibility")
    assert finding.severity == "warn"
    assert flagged(text, finding) == ["#knifecrimeawareness"]
    assert finding.suggestion == "#KnifeCrimeAwareness"


def test_camel_case_short_and_url_hashtags_not_flagged():
    text = "#KnifeCrimeAwareness #staysafe #police https://example.org/page#somesectionname"
    assert of(check(text, networks=[]), "accessibility") == []


def test_unknown_lower_case_hashtag_still_warns():
    text = "#zorblaxquintwhee"
    (finding,) = of(check(text), "accessibility")
    assert finding.suggestion == ""
    assert "capitalise" in finding.message


def test_emoji_run_is_info():
    text = "Great result 🚔🚔 🚔👍🏽🇬🇧 well done"
    (finding,) = of(check(text), "accessibility")
    assert finding.severity == "info"
    assert flagged(text, finding) == ["🚔🚔 🚔👍🏽🇬🇧"]
    assert of(check("Well done 👍🏽👏"), "accessibility") == []


# --- length ----------------------------------------------------------------------------------


def test_over_the_limit_blocks_per_network():
    text = "a" * 290
    found = of(check(text, networks=["x", "bluesky", "mastodon"]), "length")
    (finding,) = found
    assert finding.severity == "block"
    assert "X" in finding.message and "290" in finding.message and "280" in finding.message
    assert finding.spans == ((280, 290),)


def test_x_counts_a_url_as_23():
    url = "https://www.westmere.police.uk/news/" + "a" * 100
    text = "b" * 250 + " " + url  # 251 + 23 = 274 on X, far more as plain characters
    assert of(check(text, networks=["x"]), "length") == []
    (finding,) = of(check(text + " " + "c" * 10, networks=["x"]), "length")
    assert "285" in finding.message
    assert of(check(text, networks=["facebook"]), "length") == []
    assert of(check(text, networks=["bluesky"]), "length") != []


def test_bluesky_counts_graphemes():
    text = "e\u0301" * 300  # 600 code points, 300 graphemes
    assert of(check(text, networks=["bluesky"]), "length") == []
    (finding,) = of(check(text + "!", networks=["bluesky"]), "length")
    assert "Bluesky" in finding.message and "301" in finding.message
    assert finding.spans == ((600, 601),)
    assert of(check("👍🏽" * 300, networks=["bluesky"]), "length") == []


# --- ordering --------------------------------------------------------------------------------


def test_findings_ordered_by_severity_then_position():
    text = "A male was apprehended. Call 07700 900123. Jake Smith, 15, helped. #knifecrimeawareness"
    findings = check(text, media=[Media("")])
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=["block", "warn", "info"].index)
    warns = [f for f in findings if f.severity == "warn"]
    starts = [f.spans[0][0] for f in warns]
    assert starts == sorted(starts)
    assert findings[0].check == "personal_data"  # the phone, before the spanless alt text
    assert findings[1].check == "accessibility"


def test_lower_case_surname_in_ordinary_text_is_a_word():
    text = "Officers are looking for a brown car seen near the park."
    assert of(check(text, charged_names=["Mary Brown"]), "sub_judice") == []
    text = "mary brown will appear in court. brown denies the charge."
    (finding,) = of(check(text, charged_names=["Mary Brown"]), "sub_judice")
    assert flagged(text, finding) == ["mary brown", "brown"]


def test_empty_text():
    assert run_checks("", networks=["x", "bluesky"]) == []
