"""The training commands' flags come from one declaration per command (training/options.py)."""

import pytest
from click.testing import CliRunner

from radlite_cli.options import flag
from training.cli import models, train
from training.options import EvalOptions, LoraOptions, ModelTableOptions, RouteOptions


@pytest.mark.parametrize("group, command, options", [(train, "eval", EvalOptions), (train, "lora", LoraOptions),
                                                     (train, "route", RouteOptions),
                                                     (train, "model-table", ModelTableOptions)])
def test_every_declared_option_is_a_flag_with_its_doc(group, command, options):
    help_text = " ".join(CliRunner().invoke(group, [command, "--help"]).output.split())
    for name, field in options.model_fields.items():
        assert (field.json_schema_extra or {}).get("flag", flag(name)) in help_text
        assert " ".join(field.description.split())[:30] in help_text


def test_a_bad_value_is_one_usage_line_naming_the_flag(tmp_path):
    split = tmp_path / "s.jsonl"
    split.write_text("")
    result = CliRunner().invoke(train, ["eval", "--routing", "embedded", "--split", str(split), "--k-shot", "-1",
                                        "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--k-shot" in result.output
    result = CliRunner().invoke(train, ["model-table", "ner", "--name", "x", "--merge", "Q4", "--out", "t.yaml"])
    assert result.exit_code == 2 and "'Q4' is not 'Q8_0'" in result.output
    result = CliRunner().invoke(models, ["validate", "embedded", "--smoke-limit", "0"])
    assert result.exit_code == 2 and "--smoke-limit" in result.output
