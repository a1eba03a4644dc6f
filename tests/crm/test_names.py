"""Names read the way their owners write them."""

from crm.names import person_name


def test_cjk_names_put_the_family_name_first_without_a_space():
    assert person_name("伟", "张") == "张伟"
    assert person_name("秀英", "欧阳") == "欧阳秀英"
    assert person_name("", "王") == "王"


def test_other_names_are_first_then_last():
    assert person_name("Anna", "Schmidt") == "Anna Schmidt"
    assert person_name("Bo", "") == "Bo"
    assert person_name(" Li ", " Wei ") == "Li Wei"
