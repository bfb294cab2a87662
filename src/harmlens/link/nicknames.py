"""Common English forename variants and nicknames, mapped to one canonical form.

Written for harmlens from general knowledge of English naming (not copied from a list).
Each line is ``canonical: variant variant ...``; a variant may belong to more than one
canonical name in real life (e.g. "Alex"), in which case the first canonical listed wins
and the Jaro-Winkler / phonetic levels still catch the rest. The table only feeds one
comparison level ("same canonical forename") and one blocking key, so a wrong entry can
add a candidate pair but never decides a link by itself.
"""

from __future__ import annotations

_TABLE = """
abigail: abi abby abbie gail
albert: al bert bertie
alexander: alex alexandra alec alick sandy sasha xander lex
alfred: alf alfie fred freddie
andrew: andy drew andi
anthony: tony ant antony anton
arthur: art artie
barbara: barb babs barbie
benjamin: ben benny benji
bernard: bernie
bradley: brad
catherine: cath cathy kate katie kat kathryn katherine kathy kay kitty cathryn caitlin katharine
charles: charlie chas chuck chaz
charlotte: lottie lotte charlie
christopher: chris kit topher christoph kristopher
christine: chris chrissie christina kristina tina kirsty kirstie christie
clifford: cliff
daniel: dan danny dani
david: dave davey davy dai
deborah: debbie debs deb debra
dennis: den denny
dominic: dom
donald: don donnie
dorothy: dot dottie dolly
douglas: doug dougie
edward: ed eddie ted teddy ned edwin eddy iorwerth
eleanor: ellie nell nellie elenor elinor ella
elizabeth: liz lizzie beth betty bess bessie eliza lisa libby elisabeth lizzy betsy
emily: em emmy millie
frances: fran frankie fanny
francis: frank frankie
frederick: fred freddie freddy fredrick
gabriel: gabe gabby
geoffrey: geoff jeff jeffrey
gerald: gerry jerry ged
gregory: greg
harold: harry hal
henry: harry hank hal hen
isabel: izzy isabella isobel bella belle
jacob: jake jack
james: jim jimmy jamie jimbo jas
jane: janie jenny jayne
janet: jan jen
jennifer: jen jenny jenni jennie
jessica: jess jessie
john: jack johnny jon jonny johnnie sean ian iain evan ieuan eoin ivan
jonathan: jon jonny nathan
joseph: joe joey jo jos
joshua: josh
judith: judy jude
kenneth: ken kenny
lawrence: larry laurie laurence lol
leonard: len lenny leo
louise: lou lulu louisa
margaret: maggie meg peggy marge margie madge greta mags maisie megan may
martin: marty
matthew: matt matty mat
michael: mike mick mickey micky mikey mick michel
nicholas: nick nicky nic nico
nicola: nicky nikki nic nichola
oliver: ollie olly
patricia: pat patty trish tricia patsy
patrick: pat paddy
peter: pete
philip: phil pip phillip
rebecca: becky becca bex
richard: rich rick ricky dick richie ritchie
robert: rob bob bobby robbie bert robin rab robby
ronald: ron ronnie
samuel: sam sammy
samantha: sam sammy
sarah: sara sally sadie
stephen: steve stevie steven stephan
stuart: stu stewart
susan: sue susie suzanne suzy
terence: terry tel
theodore: theo ted teddy
thomas: tom tommy thom
timothy: tim timmy
victoria: vicky vicki tori
vincent: vince vinny
walter: walt wally
william: will bill billy willie liam willy wills gwilym
zachary: zach zack
adelaide: addie
agnes: aggie nessie
augustus: gus gussie
edmund: ed eddie ned ted
harriet: hattie hatty
henrietta: etta hettie hetty
herbert: herb herbie bert
hugh: huey hughie
isaac: ike
louis: lewis lou
mary: polly molly mae may mamie
norman: norm norrie
winifred: win winnie
"""


def _build() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in _TABLE.strip().splitlines():
        canon, _, variants = line.partition(":")
        canon = canon.strip()
        out.setdefault(canon, canon)
        for v in variants.split():
            out.setdefault(v, canon)
    return out


NICKNAMES: dict[str, str] = _build()


def _groups() -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for line in _TABLE.strip().splitlines():
        canon, _, variants = line.partition(":")
        canon = canon.strip()
        for v in [canon] + variants.split():
            out.setdefault(v, set()).add(canon)
    return {k: frozenset(v) for k, v in out.items()}


NICKNAME_GROUPS: dict[str, frozenset[str]] = _groups()
"""Every canonical name a variant belongs to ("harry" is both Harold and Henry): two forenames are
the same name when their groups share a canonical name."""


def forename_groups(name: str | None) -> list[str] | None:
    """Sorted canonical names of a cleaned forename (the name itself when unknown)."""
    if name is None:
        return None
    return sorted(NICKNAME_GROUPS.get(name, frozenset([name])))


def canonical_forename(name: str | None) -> str | None:
    """The canonical form of a cleaned (lower-case) forename; the name itself when unknown."""
    if name is None:
        return None
    return NICKNAMES.get(name, name)
