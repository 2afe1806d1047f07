"""The backward-pass player (rg.explain / `revgraph explain`): the steps it tells, and the page it writes."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import revgraph as rg
from revgraph import demos
from revgraph.backends.html import page, walkthrough


def _numbers(text):
    return np.array([float(v) for v in re.findall(r"[-+]?\d+\.?\d*(?:e[-+]?\d+)?", text)])


def _apple_orange():
    step, _, _ = demos.run("apple_orange")
    return step


def test_apple_orange_steps_follow_the_backward_program():
    data = walkthrough(_apple_orange())
    steps = data["steps"]
    assert [(s["kind"], s["name"]) for s in steps] == [("seed", "price"), ("op", "price"), ("op", "add_1"),
                                                       ("op", "mul_2"), ("op", "mul_1")]
    sends = {x["to"]: x["text"] for s in steps for x in s["sends"] if s["kind"] == "op"}
    assert sends == {"add_1": "1.1", "tax": "650", "mul_1": "1.1", "mul_2": "1.1", "orange": "3.3",
                     "orange_num": "165", "apple": "2.2", "apple_num": "110"}
    assert [s["upstream"]["text"] for s in steps] == ["1", "1", "1.1", "1.1", "1.1"]
    # add passes the gradient through: no code of its own; mul's lines compute exactly what it sends
    assert steps[2]["lines"] == []
    code = data["code"]
    price_lines = [code[i - 1] for i in steps[1]["lines"]]
    assert len(price_lines) == 2 and all("mul(dout_1" in line for line in price_lines)
    # the steps, in order, use the backward program's lines in order
    firsts = [s["lines"][0] for s in steps if s["lines"]]
    assert firsts == sorted(firsts)


def test_reused_variable_gets_an_accumulate_step_with_its_branches():
    g = rg.Graph("reuse")
    x = g.input("x")
    y = ((x + x) + x).rename("y")
    step = rg.compile(y, wrt=x, optimize=False)
    step.forward(x=2.0)
    assert step.backward() == 3.0
    steps = walkthrough(step)["steps"]
    acc = [s for s in steps if s["kind"] == "accumulate"]
    assert [s["name"] for s in acc] == ["x"]
    assert [b["text"] for b in acc[0]["branches"]] == ["1", "1", "1"] and acc[0]["upstream"]["text"] == "3"
    assert acc[0]["lines"], "the accumulate step shows the line that sums the branches"
    assert steps[-1] is acc[0]  # x's total is the last thing the backward pass computes


def test_tensor_values_are_short_with_full_values_on_click():
    step, _, _ = demos.run("mlp")
    steps = walkthrough(step)["steps"]
    matmul = next(s for s in steps if s["op"] == "matmul" and any(x["to"] == "W2" for x in s["sends"]))
    dW2 = next(x for x in matmul["sends"] if x["to"] == "W2")
    assert dW2["shape"] == [5, 3] and "mean" in dW2["text"]
    assert _numbers(dW2["full"]).size == 15  # every number, on click


def test_full_values_match_the_gradients_the_step_returned():
    step, _, grads = demos.run("mlp")
    steps = walkthrough(step)["steps"]
    wrt = ["W1", "b1", "W2", "b2"]
    shown = {x["to"]: _numbers(x["full"]) for s in steps for x in s["sends"] if x["to"] in wrt}
    for name, g in zip(wrt, grads):
        np.testing.assert_allclose(shown[name], g.ravel(), rtol=1e-6, atol=1e-8, err_msg=name)


def test_higher_order_step_is_explained_on_the_joint_view():
    g = rg.Graph("second")
    x = g.input("x")
    dx = rg.grad(x * x * x, x)                 # 3x², itself differentiated by the step
    step = rg.compile(dx, wrt=x)
    step.forward(x=2.0)
    assert step.backward() == 12.0
    data = walkthrough(step)
    assert data["order"] == 2 and len(data["steps"]) > 2
    html_text = page(step)
    assert "adjoint" in html_text and 'id="rg-data"' in html_text


def test_page_is_self_contained_and_names_cannot_break_out(tmp_path):
    g = rg.Graph("hostile")
    x = g.input("</script><script>alert(1)</script>")
    y = (x * x).rename("&<b>y</b>")
    step = rg.compile(y, wrt=[x])
    out = rg.explain(step, tmp_path / "p.html", **{"</script><script>alert(1)</script>": 3.0})
    text = out.read_text(encoding="utf-8")
    assert text.count("<script") == 2 and text.count("</script>") == 2   # the data block and the player
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<link" not in text and "@import" not in text
    data = json.loads(re.search(r'<script type="application/json" id="rg-data">(.*?)</script>', text, re.S).group(1))
    assert data["steps"][1]["sends"][0]["to"] == "</script><script>alert(1)</script>"


def test_explain_runs_the_step_on_feeds_and_checks_its_arguments(tmp_path):
    g = rg.Graph("sq")
    x = g.input("x")
    step = rg.compile((x * x).rename("y"), wrt=[x])
    with pytest.raises(rg.GraphError, match="has not run"):
        rg.explain(step, tmp_path / "p.html")
    with pytest.raises(rg.GraphError, match="compiled step"):
        rg.explain(g, tmp_path / "p.html")
    with pytest.raises(rg.GraphError, match="lang='fr'"):
        rg.explain(step, tmp_path / "p.html", lang="fr", x=1.0)
    path = rg.explain(step, tmp_path / "p.html", lang="ko", x=3.0)
    text = path.read_text(encoding="utf-8")
    assert '<html lang="ko">' in text and "곱셈 노드" in text
    assert step.last_dout is not None


def _run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "revgraph", "explain", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_cli_explains_demos_python_models_and_saved_graphs(tmp_path):
    r = _run_cli("apple", "-o", str(tmp_path / "apple.html"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2.2" in (tmp_path / "apple.html").read_text(encoding="utf-8")
    model = tmp_path / "model.py"
    model.write_text("import revgraph as rg\n"
                     "def build():\n"
                     "    g = rg.Graph('m'); a = g.input('a'); b = g.input('b')\n"
                     "    return (a * b).rename('z'), [a, b]\n"
                     "def feeds():\n"
                     "    return {'a': 3.0, 'b': 4.0}\n", encoding="utf-8")
    r = _run_cli(str(model), "-o", str(tmp_path / "m.html"), "--lang", "ko", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert '"text": "4"' in data and '"text": "3"' in data   # dz/da = b = 4, dz/db = a = 3
    g = rg.Graph("saved")
    x = g.input("x", shape=(3,))
    loss = rg.sum(rg.relu(x) * x).rename("loss")
    g.outputs, g.wrt = [loss], [x]
    g.save(tmp_path / "saved.json")
    r = _run_cli(str(tmp_path / "saved.json"), "-o", str(tmp_path / "s.html"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "ReLU" in (tmp_path / "s.html").read_text(encoding="utf-8")
