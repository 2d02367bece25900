"""The README tells the truth: its JSON example is what the seeds answer."""

import json
import re

from search.paths import PROJECT_ROOT

ELIDED = "…"


def readme_example() -> dict:
    text = (PROJECT_ROOT / "README.md").read_text("utf-8")
    block = re.search(r"```json\n(\{\"query\": .*?)\n```", text, re.DOTALL)
    assert block, "the README has a JSON example of /api/search"
    return json.loads(block.group(1))


def agrees(documented, real, path="") -> None:
    """Every value the README shows is the real one; ``…`` stands for what it leaves out."""
    if documented == ELIDED or (isinstance(documented, str) and ELIDED in documented and isinstance(real, str)):
        if isinstance(documented, str) and documented != ELIDED:
            for part in filter(None, (p.strip() for p in documented.split(ELIDED))):
                assert part in real, f"{path}: {part!r} is not in {real!r}"
        return
    if isinstance(documented, dict):
        if ELIDED in documented:  # {"id": …, "…": "…"}: only the keys it shows
            documented = {k: v for k, v in documented.items() if k != ELIDED}
        else:
            assert set(documented) == set(real), f"{path}: keys {set(documented) ^ set(real)}"
        for key, value in documented.items():
            agrees(value, real[key], f"{path}.{key}")
    elif isinstance(documented, list):
        shown = [v for v in documented if v != ELIDED]
        assert len(shown) <= len(real) and (ELIDED in documented or len(shown) == len(real)), path
        for number, value in enumerate(shown):
            agrees(value, real[number], f"{path}[{number}]")
    elif path.endswith(".took_ms"):
        assert isinstance(real, (int, float))
    elif isinstance(documented, float):
        assert abs(documented - real) < 1e-3, f"{path}: README says {documented}, the API {real}"
    else:
        assert documented == real, f"{path}: README says {documented!r}, the API {real!r}"


def test_the_readme_json_example_is_the_real_answer(client):
    example = readme_example()
    real = client.get("/api/search", query_string={"q": example["query"]}).get_json()
    agrees(example, real)
