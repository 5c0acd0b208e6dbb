"""Real registry text in each script, and the encodings its registries write it in, for the decoding tests.

Run `python -m tests.loading.encoding_samples` to print, for each sample and encoding, the encoding chosen and the
best and next scores (the confidence figures of docs/decoding.md).
"""

from __future__ import annotations

from converters.loading import encoding_table, rank_encodings
from converters.resources import Resources
from tests.conftest import ROOT

# name -> (text, ((codec used to write the bytes, encoding recorded when read back), ...))
SAMPLES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "the title of issue 14": (
        "Étude sur le café",
        (("latin-1", "windows-1252"),),
    ),
    "french title (EU CTR)": (
        "Étude de phase III, randomisée, en double aveugle, évaluant l'efficacité et la tolérance du médicament "
        "chez des patients âgés atteints d'insuffisance cardiaque",
        (("latin-1", "windows-1252"), ("cp1252", "windows-1252")),
    ),
    "french criteria (EU CTR)": (
        "Critères d'inclusion : patients âgés de 18 à 75 ans ; consentement éclairé signé. Critères de "
        "non-inclusion : grossesse, allaitement, hypersensibilité connue à la molécule étudiée.",
        (("latin-1", "windows-1252"), ("cp1252", "windows-1252")),
    ),
    "french, Windows-1252 only (“ ” € œ …)": (
        "Essai « ÉCLAIR » : coût estimé à 1 200 € par patient ; le “critère principal” est la qualité de vie — "
        "évaluée à 12 mois… Œdème, cœur.",
        (("cp1252", "windows-1252"),),
    ),
    "german title and criteria (DRKS)": (
        "Randomisierte, doppelblinde Studie zur Wirksamkeit und Sicherheit von Wachstumshormon bei Kindern mit "
        "Kleinwuchs. Ausschlusskriterien: Schwangerschaft oder Stillzeit, bekannte Überempfindlichkeit gegenüber "
        "dem Prüfpräparat, Körpergröße über 150 cm; Maßnahmen gemäß Prüfplan.",
        (("latin-1", "windows-1252"), ("cp1252", "windows-1252")),
    ),
    "german, Windows-1252 only („ “ – ™ €)": (
        "„Lebensqualität“ nach 6 Monaten – gemessen mit dem EQ-5D™; Fahrtkosten: 50 € pro Besuch.",
        (("cp1252", "windows-1252"),),
    ),
    "spanish title (REPEC)": (
        "Ensayo clínico aleatorizado de fase II para evaluar la eficacia de la intervención en niños pequeños "
        "con bronquiolitis; año de inicio 2024.",
        (("latin-1", "windows-1252"),),
    ),
    "portuguese title (ReBEC)": (
        "Avaliação da eficácia e segurança da vacinação em adultos: informações sobre reações adversas em "
        "São Paulo.",
        (("latin-1", "windows-1252"),),
    ),
    "chinese title (ChiCTR)": (
        "一项评估新型口服降糖药治疗2型糖尿病患者有效性和安全性的多中心、随机、双盲、安慰剂对照临床试验",
        (("gb18030", "gb18030"),),
    ),
    "chinese criteria (ChiCTR)": (
        "纳入标准：1.年龄18-75岁，男女不限；2.符合2型糖尿病诊断标准；3.自愿签署知情同意书。"
        "排除标准：1.妊娠或哺乳期妇女；2.严重肝肾功能不全者；3.近3个月内参加过其他临床试验者。",
        (("gb18030", "gb18030"),),
    ),
    "japanese title (jRCT)": (
        "2型糖尿病患者を対象とした新規経口血糖降下薬の有効性及び安全性を検討する多施設共同無作為化二重盲検"
        "プラセボ対照試験",
        (("shift_jis", "shift_jis"), ("euc-jp", "euc-jp")),
    ),
    "japanese criteria (jRCT)": (
        "選択基準：1) 同意取得時の年齢が20歳以上の患者 2) 本研究への参加について文書による同意が得られた患者。"
        "除外基準：妊娠中又は授乳中の女性、重篤な腎機能障害を有する患者",
        (("shift_jis", "shift_jis"), ("euc-jp", "euc-jp")),
    ),
    "japanese, Windows extensions (① ㎏)": (
        "選択基準：①20歳以上の患者 ②体重40㎏以上 ③文書による同意が得られた患者",
        (("cp932", "cp932"),),
    ),
    "korean title (CRIS/KCT)": (
        "제2형 당뇨병 환자를 대상으로 새로운 경구 혈당강하제의 유효성과 안전성을 평가하기 위한 다기관, "
        "무작위배정, 이중눈가림, 위약대조 임상시험",
        (("euc-kr", "euc-kr"),),
    ),
    "korean criteria (CRIS/KCT)": (
        "선정기준: 만 19세 이상 성인 남녀; 서면 동의서를 제출한 자. 제외기준: 임신 중이거나 수유 중인 여성",
        (("euc-kr", "euc-kr"),),
    ),
    "korean, CP949 only (똠)": (
        "똠얌꿍 섭취가 위장관 증상에 미치는 영향을 평가하기 위한 무작위배정 임상시험",
        (("cp949", "cp949"),),
    ),
}


def scores_table(resources: Resources) -> list[str]:
    """One line per sample and encoding: the encoding chosen, whether the text is exact, the best score and the
    next: the best of the candidates that read the bytes as a different text ('-' when none decodes them)."""
    table = encoding_table(resources)
    lines = [f"{'sample':42} {'written as':10} {'read as':13} {'exact':5} {'best':>5} {'next':>5}  next encoding"]
    for name, (text, encodings) in SAMPLES.items():
        for codec, _recorded in encodings:
            ranking = rank_encodings(text.encode(codec), table)
            best = ranking.best
            assert best is not None
            runner = f"{ranking.runner_up[1]:5.2f}  {ranking.runner_up[0]}" if ranking.runner_up else "    -  -"
            lines.append(f"{name:42} {codec:10} {best.encoding:13} {best.text == text!s:5} {best.score:5.2f} {runner}")
    return lines


if __name__ == "__main__":
    print("\n".join(scores_table(Resources(root=ROOT))))
