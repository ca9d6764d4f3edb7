from dcgan_core.verdicts import paper


def test_table1_pairs_read_the_table():
    assert paper.table1_pair(0) == "82.8% vs 80.6% (4800 features)"
    assert paper.table1_pair(1).startswith("73.8% vs 63.7%")
    assert paper.CIFAR_DCGAN_ACCURACY == float(paper.TABLE1[next(iter(paper.TABLE1))][0].rstrip("%")) / 100


def test_a_stand_in_says_what_it_stands_in_for():
    meta = {"source": "synth-rooms", "resolution": 32, "count": 20000}
    assert paper.describe_data(meta, "cpu") == ("synthetic rooms, a stand-in for LSUN bedrooms, 32x32, 20,000 images, "
                                                "cpu profile")
    assert paper.describe_data({**meta, "source": "lsun"}, "paper").startswith("LSUN bedrooms, 32x32")


def test_probe_data_marks_stand_ins_only():
    real = paper.probe_data({"source": "imagenet32", "count": 10}, {"source": "cifar10", "count": 5}, 2, "paper", "X")
    stand_in = paper.probe_data({"source": "mnist5k", "count": 10}, {"source": "digits", "count": 5}, 2, "cpu", "X")
    assert not real.endswith("a stand-in for X") and stand_in.endswith("a stand-in for X")


def test_paper_table_has_a_row_per_method():
    md = paper.paper_table(paper.TABLE2, ["test error"]).splitlines()
    assert len(md) == 2 + len(paper.TABLE2) and "| DCGAN + L2-SVM | 22.48% |" in md
