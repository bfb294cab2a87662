"""Population tables in the shapes they come in."""

from __future__ import annotations

import pytest

from harmlens.stops.population import PopulationError, borough_populations, read_population, select_area


def test_contract_format_with_groups_codes_and_labels(tmp_path):
    p = tmp_path / "population.csv"
    p.write_text("area,ethnicity_group,population\n"
                 "Lambeth,White,100\nLambeth,B1,30\nLambeth,Black/African/Caribbean/Black British: African,20\n"
                 "Lambeth,All usual residents,999\nSouthwark,White,50\nSouthwark,Black,50\n")
    pop = read_population(p)
    got = {(r.area, r.ethnicity_group): r.population for r in pop.itertuples()}
    assert got == {("Lambeth", "White"): 100, ("Lambeth", "Black"): 50, ("Southwark", "White"): 50, ("Southwark", "Black"): 50}
    tot, used = select_area(pop, ["all"])
    assert tot.to_dict() == {"Black": 100, "White": 150} and used == ["Lambeth", "Southwark"]
    tot, used = select_area(pop, ["lambeth"])
    assert tot["Black"] == 50 and used == ["Lambeth"]
    with pytest.raises(PopulationError, match="--area"):
        select_area(pop, None)
    with pytest.raises(PopulationError, match="not in the population table"):
        select_area(pop, ["Camden"])
    assert set(borough_populations(pop, ["LAMBETH", "Camden"])) == {"LAMBETH"}


def test_ts021_long_format(tmp_path):
    p = tmp_path / "ts021.csv"
    p.write_text(
        "Lower tier local authorities Code,Lower tier local authorities,Ethnic group (20 categories) Code,Ethnic group (20 categories),Observation\n"
        "E09000022,Lambeth,-8,Does not apply,0\n"
        "E09000022,Lambeth,1,\"Asian, Asian British or Asian Welsh: Bangladeshi\",3000\n"
        "E09000022,Lambeth,2,\"Asian, Asian British or Asian Welsh: Chinese\",2000\n"
        "E09000022,Lambeth,6,\"Black, Black British, Black Welsh, Caribbean or African: African\",40000\n"
        "E09000022,Lambeth,13,\"White: English, Welsh, Scottish, Northern Irish or British\",120000\n"
        "E09000022,Lambeth,19,Other ethnic group: Arab,1500\n")
    pop = read_population(p)
    got = dict(zip(pop["ethnicity_group"], pop["population"]))
    assert got == {"Asian": 5000, "Black": 40000, "White": 120000, "Other": 1500}


def test_nomis_wide_uses_subcategories_once(tmp_path):
    p = tmp_path / "nomis.csv"
    p.write_text("PFA16NM,Ethnic Group: All categories: Ethnic group; measures: Value,Ethnic Group: White; measures: Value,"
                 "Ethnic Group: White: Irish; measures: Value,Ethnic Group: White: Other White; measures: Value,"
                 "Ethnic Group: Black; measures: Value,Ethnic Group: Asian/Asian British: Chinese; measures: Value\n"
                 "Force A,1000,800,300,500,150,50\n")
    pop = read_population(p)
    got = dict(zip(pop["ethnicity_group"], pop["population"]))
    assert got == {"White": 800, "Black": 150, "Asian": 50}


def test_bad_tables(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(PopulationError, match="not a population table"):
        read_population(p)
    p.write_text("area,ethnicity_group,population\nA,White,lots\n")
    with pytest.raises(PopulationError, match="not a non-negative number"):
        read_population(p)
    p.write_text("area,ethnicity_group,population\nA,Martian,5\n")
    with pytest.raises(PopulationError, match="unknown population ethnicity"):
        read_population(p)


@pytest.mark.shared_data
def test_census_2011_met(shared_data):
    pop = read_population(shared_data / "census" / "force_area_ethnic_groups_census2011.csv")
    tot, _ = select_area(pop, ["Metropolitan"])
    # PROVENANCE.md: White 4,881,636; Mixed 404,990; Asian 1,510,606; Black 1,088,447; Other 280,887.
    assert tot.to_dict() == {"Asian": 1510606, "Black": 1088447, "Mixed": 404990, "White": 4881636, "Other": 280887}
    la = read_population(shared_data / "census" / "la_ethnic_groups_census2011.csv")
    assert select_area(la, ["Lambeth"])[0]["Black"] > 0


def test_detail_level_keeps_2021_categories(tmp_path):
    p = tmp_path / "population.csv"
    p.write_text("area,ethnicity_group,population\nA,W1,100\nA,W5,20\nA,Black,50\nA,B2,30\n"
                 "A,\"White: English, Welsh, Scottish, Northern Irish or British\",5\nA,Total: All usual residents,999\n")
    det = read_population(p, detail=True)
    assert dict(zip(det["ethnicity_group"], det["population"])) == {"W1": 105, "W5": 20, "B2": 30}
    tot, _ = select_area(det, ["A"])
    assert tot.to_dict() == {"B2": 30, "W1": 105, "W5": 20}
    grp = read_population(p)
    assert dict(zip(grp["ethnicity_group"], grp["population"])) == {"White": 125, "Black": 80}


@pytest.mark.shared_data
def test_census_2011_met_detail(shared_data):
    det = read_population(shared_data / "census" / "force_area_ethnic_groups_census2011.csv", detail=True)
    tot, _ = select_area(det, ["Metropolitan"])
    assert tot["W1"] == 3665041 and tot["B2"] == 573833 and tot["A4"] == 123987  # 2011 Chinese is Asian: A4
    assert tot.sum() == 8166566 and "W4" not in tot.index  # no Roma category in 2011
