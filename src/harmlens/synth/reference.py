"""Reference numbers the synthetic city is built from.

Everything here is approximate and written down on purpose, so the generator needs no external
file at run time:

* Borough populations and the five-group ethnicity mix are rounded from the 2021 Census (ONS
  TS021 / TS001, usual residents, published 2022), quoted from memory to about one percentage
  point; they are *census-like*, not census figures. The split of each group into its 2021
  categories (W1..O9) uses one London-wide split for every borough (London 2021 shares), which
  is the biggest simplification: e.g. Bangladeshi residents are really concentrated in Tower
  Hamlets and Newham.
* Postcode districts are real outward codes that lie in each borough; inward codes are random.
* Centroids are rough borough centres (WGS84); points are jittered around them.
* Offence harm weights are the generator's own approximate Cambridge Crime Harm Index style
  figures (days of custody); the harm stage uses its own map, not these.
"""

from __future__ import annotations

import numpy as np

# name, population (thousands, 2021), % White, Asian, Black, Mixed, Other, centroid lat, lon, districts
BOROUGHS: list[tuple[str, float, float, float, float, float, float, float, float, tuple[str, ...]]] = [
    ("Barking and Dagenham", 218.9, 44.9, 25.9, 21.4, 4.2, 3.6, 51.545, 0.129, ("IG11", "RM8", "RM9", "RM10")),
    ("Barnet", 389.3, 57.7, 19.3, 7.9, 5.4, 9.7, 51.625, -0.152, ("N3", "N12", "NW4", "NW7", "EN5")),
    ("Bexley", 246.5, 71.9, 9.1, 12.7, 3.7, 2.6, 51.455, 0.150, ("DA5", "DA6", "DA7", "DA15")),
    ("Brent", 339.8, 35.4, 34.1, 17.5, 5.1, 7.9, 51.558, -0.268, ("NW10", "HA9", "NW2", "HA0")),
    ("Bromley", 330.0, 76.5, 7.0, 8.4, 5.3, 2.8, 51.372, 0.051, ("BR1", "BR2", "BR3", "BR6")),
    ("Camden", 210.1, 59.5, 18.1, 9.0, 7.0, 6.4, 51.545, -0.163, ("NW1", "NW3", "NW5", "WC1N")),
    ("City of London", 8.6, 69.4, 18.6, 2.6, 5.2, 4.2, 51.515, -0.092, ("EC2V", "EC3A", "EC4M")),
    ("Croydon", 390.7, 48.4, 17.5, 22.6, 7.6, 3.9, 51.372, -0.098, ("CR0", "CR2", "CR7", "SE25")),
    ("Ealing", 367.1, 43.2, 30.3, 10.8, 5.5, 10.2, 51.513, -0.309, ("W5", "W13", "UB1", "UB6")),
    ("Enfield", 329.6, 52.1, 11.5, 18.3, 6.0, 12.1, 51.652, -0.081, ("EN1", "EN3", "N9", "N13")),
    ("Greenwich", 289.1, 55.7, 14.7, 20.4, 5.7, 3.5, 51.469, 0.049, ("SE10", "SE18", "SE9", "SE3")),
    ("Hackney", 259.2, 53.1, 10.4, 21.1, 6.7, 8.7, 51.545, -0.055, ("E8", "E5", "E9", "N16")),
    ("Hammersmith and Fulham", 183.2, 63.2, 10.9, 11.9, 6.6, 7.4, 51.492, -0.224, ("W6", "W12", "W14", "SW6")),
    ("Haringey", 264.2, 57.0, 8.7, 17.6, 7.0, 9.7, 51.590, -0.110, ("N15", "N17", "N8", "N22")),
    ("Harrow", 261.2, 36.6, 45.2, 7.3, 3.8, 7.1, 51.588, -0.341, ("HA1", "HA2", "HA3", "HA7")),
    ("Havering", 262.0, 75.3, 9.7, 8.7, 3.4, 2.9, 51.557, 0.218, ("RM1", "RM3", "RM7", "RM11")),
    ("Hillingdon", 305.9, 48.1, 33.3, 8.2, 4.3, 6.1, 51.534, -0.452, ("UB3", "UB8", "UB10", "HA4")),
    ("Hounslow", 288.2, 45.0, 36.8, 6.6, 4.1, 7.5, 51.468, -0.361, ("TW3", "TW4", "TW7", "W4")),
    ("Islington", 216.6, 62.3, 10.1, 13.3, 7.1, 7.2, 51.546, -0.106, ("N1", "N7", "N19", "EC1V")),
    ("Kensington and Chelsea", 143.4, 63.5, 11.3, 7.3, 6.4, 11.5, 51.502, -0.194, ("W8", "W10", "W11", "SW3")),
    ("Kingston upon Thames", 168.1, 68.7, 19.3, 3.0, 4.6, 4.4, 51.393, -0.284, ("KT1", "KT2", "KT3", "KT6")),
    ("Lambeth", 317.6, 54.7, 7.1, 24.0, 8.7, 5.5, 51.460, -0.116, ("SE11", "SW2", "SW9", "SE27")),
    ("Lewisham", 300.6, 51.5, 8.8, 26.8, 8.7, 4.2, 51.445, -0.021, ("SE4", "SE6", "SE13", "SE14")),
    ("Merton", 215.2, 59.1, 18.3, 10.6, 5.5, 6.5, 51.410, -0.188, ("SW19", "SW20", "CR4", "SM4")),
    ("Newham", 351.0, 30.8, 42.2, 17.5, 3.7, 5.8, 51.525, 0.035, ("E6", "E7", "E13", "E15")),
    ("Redbridge", 310.3, 34.8, 47.3, 8.7, 3.7, 5.5, 51.576, 0.076, ("IG1", "IG2", "IG4", "E18")),
    ("Richmond upon Thames", 195.2, 79.1, 9.6, 1.9, 5.2, 4.2, 51.441, -0.336, ("TW1", "TW9", "TW10", "SW14")),
    ("Southwark", 307.7, 51.4, 9.9, 25.1, 7.2, 6.4, 51.473, -0.080, ("SE1", "SE5", "SE15", "SE16")),
    ("Sutton", 209.6, 69.3, 16.6, 6.1, 4.9, 3.1, 51.361, -0.194, ("SM1", "SM2", "SM3", "SM5")),
    ("Tower Hamlets", 310.3, 39.4, 44.4, 7.3, 4.1, 4.8, 51.515, -0.034, ("E1", "E2", "E3", "E14")),
    ("Waltham Forest", 278.4, 52.8, 21.3, 14.6, 6.2, 5.1, 51.590, -0.012, ("E4", "E10", "E11", "E17")),
    ("Wandsworth", 327.5, 67.8, 11.0, 10.4, 6.6, 4.2, 51.452, -0.200, ("SW11", "SW12", "SW15", "SW18")),
    ("Westminster", 204.2, 55.2, 15.4, 7.6, 6.0, 15.8, 51.497, -0.137, ("W1", "W2", "W9", "SW1")),
]

BOROUGH_NAMES: list[str] = [b[0] for b in BOROUGHS]
BOROUGH_POP = np.array([b[1] for b in BOROUGHS], dtype=float)
# group order used throughout: White, Asian, Black, Mixed, Other
GROUPS: list[str] = ["White", "Asian", "Black", "Mixed", "Other"]
GROUP_SHARES = np.array([[b[2], b[3], b[4], b[5], b[6]] for b in BOROUGHS], dtype=float)
GROUP_SHARES = GROUP_SHARES / GROUP_SHARES.sum(axis=1, keepdims=True)
CENTROIDS = np.array([[b[7], b[8]] for b in BOROUGHS], dtype=float)
DISTRICTS: list[tuple[str, ...]] = [b[9] for b in BOROUGHS]

# 2021 Census categories, their group, and the London-wide within-group split (percent of London
# residents, rounded): White 36.8/1.8/0.1/0.4/14.7; Asian 7.5/3.3/3.2/1.7/4.9; Black 3.9/7.9/1.7;
# Mixed 1.5/0.9/1.3/1.9; Other 1.6/4.7.
CODES: list[str] = ["W1", "W2", "W3", "W4", "W5", "A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "M1", "M2", "M3", "M4", "O1", "O9"]
CODE_GROUP: dict[str, str] = {c: {"W": "White", "A": "Asian", "B": "Black", "M": "Mixed", "O": "Other"}[c[0]] for c in CODES}
_WITHIN = {
    "White": [36.8, 1.8, 0.1, 0.4, 14.7],
    "Asian": [7.5, 3.3, 3.2, 1.7, 4.9],
    "Black": [3.9, 7.9, 1.7],
    "Mixed": [1.5, 0.9, 1.3, 1.9],
    "Other": [1.6, 4.7],
}


def code_distribution() -> np.ndarray:
    """Borough x 19-code probability matrix (rows sum to 1)."""
    out = np.zeros((len(BOROUGHS), len(CODES)))
    for gi, g in enumerate(GROUPS):
        idx = [i for i, c in enumerate(CODES) if CODE_GROUP[c] == g]
        w = np.array(_WITHIN[g], dtype=float)
        out[:, idx] = GROUP_SHARES[:, [gi]] * (w / w.sum())[None, :]
    return out / out.sum(axis=1, keepdims=True)


CODE_GROUP_INDEX = np.array([GROUPS.index(CODE_GROUP[c]) for c in CODES])

# Officer-defined ethnicity (IC code) most often given for each self-defined category, and the
# alternatives an officer picks when it does not agree.
IC_MAIN: dict[str, str] = {
    "W1": "IC1", "W2": "IC1", "W3": "IC1", "W4": "IC2", "W5": "IC1",
    "A1": "IC4", "A2": "IC4", "A3": "IC4", "A4": "IC5", "A5": "IC4",
    "B1": "IC3", "B2": "IC3", "B3": "IC3",
    "M1": "IC3", "M2": "IC3", "M3": "IC4", "M4": "IC1",
    "O1": "IC6", "O9": "IC9",
}
IC_CODES = ["IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9"]
IC_ALT: dict[str, tuple[str, ...]] = {
    "W1": ("IC2", "IC9"), "W2": ("IC2",), "W3": ("IC2",), "W4": ("IC1",), "W5": ("IC2", "IC6"),
    "A1": ("IC6", "IC9"), "A2": ("IC6",), "A3": ("IC9",), "A4": ("IC4",), "A5": ("IC5", "IC6"),
    "B1": ("IC9",), "B2": ("IC9",), "B3": ("IC9",),
    "M1": ("IC1", "IC9"), "M2": ("IC1", "IC9"), "M3": ("IC1", "IC9"), "M4": ("IC3", "IC4", "IC9"),
    "O1": ("IC2", "IC4"), "O9": ("IC4", "IC6", "IC2"),
}

# Age structure of London residents 2021 (approximate percent): bands and their share.
AGE_BANDS = [(0, 18, 21.5), (18, 25, 9.0), (25, 35, 18.5), (35, 50, 22.5), (50, 65, 16.0), (65, 91, 12.5)]
FEMALE_SHARE = 0.512

# --- offences -----------------------------------------------------------------------------
# code, description, category, harm days (generator's own CCHI-like weight), base recording
# probability (share of such offences that reach police records), custodial sentence share when
# convicted.
OFFENCES: list[tuple[str, str, str, float, float, float]] = [
    ("001/01", "Murder", "homicide", 5475.0, 1.0, 1.0),
    ("004/01", "Attempted murder", "homicide", 3650.0, 0.95, 1.0),
    ("005/01", "Wounding with intent to do grievous bodily harm", "violence_with_injury", 1825.0, 0.75, 0.9),
    ("008/06", "Assault occasioning actual bodily harm", "violence_with_injury", 182.0, 0.45, 0.4),
    ("105/01", "Common assault and battery", "violence_without_injury", 10.0, 0.35, 0.1),
    ("009/01", "Threats to kill", "threats_to_kill", 365.0, 0.4, 0.5),
    ("008/10", "Harassment", "harassment", 10.0, 0.3, 0.1),
    ("008/71", "Stalking", "stalking", 30.0, 0.35, 0.4),
    ("008/66", "Controlling or coercive behaviour in an intimate or family relationship", "coercive_control", 365.0, 0.2, 0.5),
    ("019/07", "Rape of a female aged 16 or over", "rape", 2555.0, 0.25, 1.0),
    ("019/08", "Rape of a female child under 16", "rape", 2920.0, 0.3, 1.0),
    ("020/01", "Sexual assault on a female aged 13 and over", "other_sexual", 182.0, 0.2, 0.4),
    ("022/01", "Sexual activity involving a child under 16", "other_sexual", 730.0, 0.3, 0.8),
    ("088/10", "Female genital mutilation", "fgm", 1825.0, 0.2, 1.0),
    ("195/12", "Breach of a restraining order", "breach_of_order", 84.0, 0.6, 0.3),
    ("195/94", "Breach of a non-molestation order", "breach_of_order", 84.0, 0.6, 0.3),
    ("028/01", "Burglary in a dwelling", "non_violent", 365.0, 0.4, 0.0),
    ("045/01", "Theft from a vehicle", "non_violent", 5.0, 0.2, 0.0),
    ("092/01", "Possession of a controlled drug", "non_violent", 2.0, 0.3, 0.0),
    ("058/01", "Criminal damage to a dwelling", "non_violent", 3.0, 0.3, 0.0),
]
OFFENCE_CODES: list[str] = [o[0] for o in OFFENCES]
OFFENCE_INDEX = {c: i for i, c in enumerate(OFFENCE_CODES)}
OFFENCE_DESC = np.array([o[1] for o in OFFENCES], dtype=object)
OFFENCE_CATEGORY = np.array([o[2] for o in OFFENCES], dtype=object)
HARM_DAYS = np.array([o[3] for o in OFFENCES])
BASE_RECORDING = np.array([o[4] for o in OFFENCES])
CUSTODIAL_SHARE = np.array([o[5] for o in OFFENCES])
NON_VAWG_CODES = ["028/01", "045/01", "092/01", "058/01"]
NON_VAWG_PROBS = np.array([0.25, 0.3, 0.3, 0.15])
VAWG_CODES: list[str] = [c for c in OFFENCE_CODES if c not in NON_VAWG_CODES]
# offences that get a remand in custody when charged (share)
REMAND_SHARE = {"001/01": 1.0, "004/01": 1.0, "005/01": 0.6, "019/07": 0.5, "019/08": 0.6, "009/01": 0.3, "088/10": 0.3, "022/01": 0.3}
HONOUR_ELIGIBLE = {"005/01", "008/06", "105/01", "009/01"}

# Relationship order used throughout
RELATIONSHIPS = ["partner", "ex_partner", "family", "acquaintance", "stranger"]
# Victim classes: adult female, adult male, child (<16) female, child (<16) male
VCLASSES = ["F", "M", "FC", "MC"]

# Offence mix by (relationship, victim class): code -> (weight at low gravity, weight at high gravity).
_ADULT_DA = {
    "105/01": (50, 15), "008/06": (6, 20), "008/66": (5, 18), "009/01": (1.5, 8), "008/10": (14, 4),
    "008/71": (2, 4), "019/07": (0.4, 16), "020/01": (1, 3), "005/01": (0.1, 10), "004/01": (0.01, 1.5), "001/01": (0.002, 0.5),
}
_EX = {
    "008/10": (34, 12), "008/71": (15, 25), "105/01": (22, 10), "008/06": (3, 12), "009/01": (1.5, 8), "008/66": (1.5, 6),
    "019/07": (0.2, 10), "020/01": (1, 3), "005/01": (0.05, 8), "004/01": (0.005, 1.2), "001/01": (0.002, 0.4),
}
_FAMILY_ADULT = {"105/01": (60, 25), "008/06": (6, 25), "009/01": (2, 10), "008/10": (12, 5), "008/66": (3, 8), "005/01": (0.1, 4), "001/01": (0.002, 0.15)}
_FAMILY_CHILD_F = {"105/01": (50, 20), "008/06": (12, 20), "022/01": (2, 10), "019/08": (0.4, 6), "088/10": (0.1, 0.8), "009/01": (2, 4)}
_FAMILY_CHILD_M = {"105/01": (55, 25), "008/06": (14, 22), "022/01": (1, 6), "009/01": (2, 4)}
_ACQ = {"008/10": (30, 12), "020/01": (12, 20), "019/07": (0.8, 18), "105/01": (24, 10), "008/71": (8, 12), "008/06": (2, 8), "009/01": (1, 4)}
_STRANGER = {"020/01": (45, 35), "019/07": (0.6, 20), "008/10": (25, 10), "105/01": (15, 10), "008/06": (3, 6), "008/71": (2, 4)}
_FEMALE_ONLY = {"019/07", "019/08", "020/01", "088/10"}


def _mix(d: dict[str, tuple[float, float]], vclass: str) -> tuple[np.ndarray, np.ndarray]:
    lo = np.zeros(len(OFFENCES))
    hi = np.zeros(len(OFFENCES))
    for code, (a, b) in d.items():
        if vclass in ("M", "MC") and code in _FEMALE_ONLY:
            continue
        lo[OFFENCE_INDEX[code]] = a
        hi[OFFENCE_INDEX[code]] = b
    return lo / lo.sum(), hi / hi.sum()


def offence_tables() -> tuple[np.ndarray, np.ndarray]:
    """Arrays [relationship, victim class, code] of offence probabilities at low and high gravity."""
    lo = np.zeros((len(RELATIONSHIPS), len(VCLASSES), len(OFFENCES)))
    hi = np.zeros_like(lo)
    for ri, rel in enumerate(RELATIONSHIPS):
        for vi, vc in enumerate(VCLASSES):
            child = vc in ("FC", "MC")
            if rel in ("partner",):
                d = _ADULT_DA
            elif rel == "ex_partner":
                d = _EX
            elif rel == "family":
                d = (_FAMILY_CHILD_F if vc == "FC" else _FAMILY_CHILD_M) if child else _FAMILY_ADULT
            elif rel == "acquaintance":
                d = _ACQ
            else:
                d = _STRANGER
            lo[ri, vi], hi[ri, vi] = _mix(d, vc)
    return lo, hi


# --- names --------------------------------------------------------------------------------
# Name pools by broad naming tradition (not by the person's ethnicity code directly: the mapping
# below is loose on purpose, and every pool is shared by several codes).
FORENAMES_M = {
    "british": ["James", "Robert", "William", "Michael", "David", "Richard", "Thomas", "Daniel", "Christopher", "Matthew",
                "Andrew", "Stephen", "Paul", "Mark", "John", "Joseph", "Anthony", "Benjamin", "Jonathan", "Edward",
                "Samuel", "Nicholas", "Alexander", "Peter", "Liam", "Ryan", "Jack", "Oliver", "Harry", "George"],
    "european": ["Piotr", "Tomasz", "Andrei", "Marius", "Jakub", "Pawel", "Luca", "Marco", "Joao", "Pedro", "Mihai", "Adam",
                 "Krzysztof", "Stefan", "Nikola", "Daniel", "Michael", "Robert"],
    "south_asian": ["Mohammed", "Ahmed", "Ali", "Imran", "Raj", "Sanjay", "Amit", "Harpreet", "Arjun", "Rahul", "Hassan",
                    "Bilal", "Abdul", "Rohan", "Vikram", "Kamal", "Tariq", "Usman", "Zain", "Omar"],
    "east_asian": ["Wei", "Jun", "Hao", "Ming", "Chen", "Kevin", "Jason", "Tony", "Daniel", "Michael", "Hiro", "Minh"],
    "african": ["Emmanuel", "Samuel", "David", "Daniel", "Joseph", "Michael", "Kwame", "Kofi", "Chinedu", "Oluwaseun",
                "Abdi", "Mohamed", "Ibrahim", "Tunde", "Femi", "Isaac", "Joshua", "Stephen", "Anthony", "Richard"],
    "arab": ["Mohammed", "Ahmed", "Ali", "Omar", "Youssef", "Khalid", "Hassan", "Karim", "Tariq", "Samir", "Nabil", "Hamza"],
}
FORENAMES_F = {
    "british": ["Sarah", "Emma", "Elizabeth", "Rebecca", "Jennifer", "Katherine", "Victoria", "Samantha", "Laura", "Rachel",
                "Charlotte", "Hannah", "Jessica", "Sophie", "Amy", "Lucy", "Emily", "Margaret", "Susan", "Deborah",
                "Patricia", "Olivia", "Chloe", "Megan", "Lauren", "Natalie", "Claire", "Helen", "Nicola", "Joanne"],
    "european": ["Anna", "Maria", "Agnieszka", "Katarzyna", "Ioana", "Elena", "Giulia", "Ana", "Marta", "Monika",
                 "Alexandra", "Magdalena", "Sofia", "Elizabeth", "Victoria", "Natalia"],
    "south_asian": ["Fatima", "Aisha", "Priya", "Sana", "Nadia", "Ayesha", "Zainab", "Anjali", "Sunita", "Harpreet",
                    "Mariam", "Shabana", "Rukhsana", "Pooja", "Neha", "Amina", "Samina", "Farzana", "Rubina", "Kiran"],
    "east_asian": ["Mei", "Li", "Xin", "Yan", "Jing", "Grace", "Amy", "Linda", "Jennifer", "Hana", "Lan", "Anna"],
    "african": ["Grace", "Blessing", "Chioma", "Ama", "Abena", "Funmilayo", "Ngozi", "Faith", "Esther", "Ruth",
                "Hodan", "Amina", "Fatima", "Precious", "Mercy", "Rebecca", "Sarah", "Victoria", "Deborah", "Patricia"],
    "arab": ["Fatima", "Mariam", "Layla", "Noor", "Yasmin", "Hana", "Salma", "Rania", "Aisha", "Amira", "Sara", "Huda"],
}
SURNAMES = {
    "british": ["Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
                "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
                "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill",
                "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen",
                "Murphy", "Kelly", "O'Brien", "Byrne", "Ryan", "Campbell", "Stewart", "Scott", "Reid", "Murray"],
    "european": ["Nowak", "Kowalski", "Wisniewski", "Wojcik", "Popescu", "Ionescu", "Rossi", "Russo", "Silva", "Santos",
                 "Ferreira", "Costa", "Horvath", "Kovacs", "Novak", "Dimitrov", "Ivanov", "Petrov", "Schmidt", "Garcia",
                 "Rodriguez", "Lopez", "Papadopoulos", "Kaminski", "Lewandowski"],
    "south_asian": ["Khan", "Ahmed", "Ali", "Hussain", "Patel", "Singh", "Shah", "Begum", "Rahman", "Islam",
                    "Iqbal", "Malik", "Kaur", "Sharma", "Gupta", "Chowdhury", "Miah", "Uddin", "Akhtar", "Mahmood",
                    "Raza", "Kumar", "Mistry", "Desai", "Sandhu"],
    "east_asian": ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wong", "Chan", "Lam", "Ng", "Nguyen", "Tran", "Kim", "Tanaka"],
    "african": ["Okafor", "Adeyemi", "Mensah", "Asante", "Owusu", "Boateng", "Okonkwo", "Adebayo", "Osei", "Mohamed",
                "Abdi", "Hassan", "Ibrahim", "Yusuf", "Campbell", "Williams", "Brown", "Johnson", "Thomas", "Francis",
                "Grant", "Henry", "Clarke", "Lewis", "Richards", "Oduya", "Nwosu", "Eze", "Bello", "Danso"],
    "arab": ["Al-Sayed", "Haddad", "Mansour", "Nasser", "Khalil", "Saleh", "Hamdan", "Aziz", "Farouk", "Karam", "Ahmed", "Hassan"],
}
POOLS = ["british", "european", "south_asian", "east_asian", "african", "arab"]
# For each code: probabilities over POOLS (loose: many British-born residents of every group carry British names)
CODE_POOL: dict[str, tuple[float, ...]] = {
    "W1": (0.97, 0.03, 0, 0, 0, 0), "W2": (0.97, 0.03, 0, 0, 0, 0), "W3": (1, 0, 0, 0, 0, 0), "W4": (0.1, 0.9, 0, 0, 0, 0),
    "W5": (0.3, 0.7, 0, 0, 0, 0),
    "A1": (0.08, 0, 0.92, 0, 0, 0), "A2": (0.05, 0, 0.95, 0, 0, 0), "A3": (0.05, 0, 0.95, 0, 0, 0), "A4": (0.15, 0, 0, 0.85, 0, 0),
    "A5": (0.1, 0, 0.75, 0.15, 0, 0),
    "B1": (0.85, 0, 0, 0, 0.15, 0), "B2": (0.2, 0, 0, 0, 0.8, 0), "B3": (0.5, 0, 0, 0, 0.5, 0),
    "M1": (0.85, 0, 0, 0, 0.15, 0), "M2": (0.5, 0, 0, 0, 0.5, 0), "M3": (0.6, 0, 0.4, 0, 0, 0), "M4": (0.6, 0.1, 0.1, 0.1, 0.1, 0),
    "O1": (0.1, 0, 0, 0, 0, 0.9), "O9": (0.3, 0.2, 0.2, 0.1, 0.1, 0.1),
}

NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"), "James": ("Jim", "Jimmy", "Jamie"),
    "Michael": ("Mike", "Mick"), "Richard": ("Rich", "Dick", "Ricky"), "Thomas": ("Tom", "Tommy"), "Daniel": ("Dan", "Danny"),
    "Christopher": ("Chris",), "Matthew": ("Matt",), "Andrew": ("Andy", "Drew"), "Stephen": ("Steve",), "Joseph": ("Joe",),
    "Anthony": ("Tony", "Ant"), "Benjamin": ("Ben",), "Jonathan": ("Jon",), "Edward": ("Ed", "Eddie", "Ted"), "Samuel": ("Sam",),
    "Nicholas": ("Nick",), "Alexander": ("Alex",), "Peter": ("Pete",), "David": ("Dave",), "Mohammed": ("Mohammad", "Muhammad", "Mo"),
    "Elizabeth": ("Liz", "Beth", "Lizzie"), "Rebecca": ("Becky", "Becca"), "Jennifer": ("Jen", "Jenny"), "Katherine": ("Kate", "Kathy", "Katie"),
    "Victoria": ("Vicky", "Tori"), "Samantha": ("Sam",), "Margaret": ("Maggie", "Peggy"), "Susan": ("Sue",), "Deborah": ("Debbie", "Deb"),
    "Patricia": ("Pat", "Trish"), "Charlotte": ("Lottie",), "Jessica": ("Jess",), "Natalie": ("Nat",), "Nicola": ("Nicky",),
    "Joanne": ("Jo",), "Emmanuel": ("Manny",), "Oluwaseun": ("Seun",), "Alexandra": ("Alex",), "Katarzyna": ("Kasia",),
    "Krzysztof": ("Chris",), "Abdul": ("Abdi",), "Joshua": ("Josh",), "Isaac": ("Ike",),
}
