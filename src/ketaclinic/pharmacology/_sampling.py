"""Virtual patients: covariate populations and inter-individual variability (pure).

Random numbers come from a stream per fixed block of patients (``BLOCK_SIZE``), seeded with
``SeedSequence(seed, spawn_key=(block,))``: patient ``i`` gets the same covariates and random
effects whatever the chunk size or executor, because chunks are made of whole blocks.

A block's stream gives its raw numbers in two calls, always for the whole block: a row of
uniforms per patient-level choice, then a row of standard normals per covariate and per IIV
name (the rows are fixed by the population description and the variability; see ``_Plan``).
``sample_patients`` then turns the raw rows of a whole chunk into covariates, parameters and
random effects with array operations, so the cost per block is little more than the draws.
An ethnicity mix (Perez-Ruixo 2021's published covariate) draws from the block's first child
stream, so adding one leaves every other number of the block as it was.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology._doses import Route
from ketaclinic.pharmacology._executor import Submit
from ketaclinic.pharmacology._frozen import FrozenMap, freeze
from ketaclinic.pharmacology._models import Covariates, PKModel
from ketaclinic.pharmacology._patient import Ethnicity
from ketaclinic.pharmacology._variability import Variability, apply_iiv, lognormal_sd
from ketaclinic.ranges import AGE_YEARS, HEIGHT_CM, WEIGHT_KG

__all__ = [
    "BLOCK_SIZE",
    "NAMED_POPULATIONS",
    "block_rng",
    "population_spec",
    "sample_covariates",
    "sample_patients",
    "scratch_buffer",
]

BLOCK_SIZE = 1024
THREADED_BLOCKS = 8  # from this many blocks per call, a helper thread draws half of them

FloatArray = NDArray[np.float64]
_CHILD_PUGH = ("none", "A", "B", "C")


def scratch_buffer(
    scratch: dict[str, FloatArray] | None, key: str, shape: tuple[int, ...]
) -> FloatArray:
    """An uninitialised float array of ``shape``: new, or the first rows of ``scratch[key]``
    (kept there for the next call) when ``scratch`` is given. Rows along the first axis keep
    the buffer's layout, so the view is C-contiguous as a new array would be."""
    if scratch is None:
        return np.empty(shape)
    buf = scratch.get(key)
    if buf is None or buf.shape[1:] != shape[1:] or buf.shape[0] < shape[0]:
        buf = scratch[key] = np.empty(shape)
    return buf[: shape[0]]


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The random stream of one block of ``BLOCK_SIZE`` patients."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))


# --- covariate populations -------------------------------------------------------------------

# NHANES 2015-2018 adults (CDC, Fryar et al., Vital Health Stat 3(46), 2021): mean weight
# men 90.6 kg, women 77.5 kg; mean height men 175.3 cm, women 161.3 cm. The spread (CV 22 %
# log-normal weight, SD 7 cm height) and the uniform 18-80 year age range are assumptions.
_ADULTS: dict[str, Any] = {
    "female_fraction": 0.5,
    "weight_kg": {
        "male": {"distribution": "lognormal", "median": 88.5, "cv": 0.22},
        "female": {"distribution": "lognormal", "median": 75.0, "cv": 0.24},
        "min": 40.0,
        "max": 200.0,
    },
    "height_cm": {
        "male": {"distribution": "normal", "mean": 175.3, "sd": 7.0},
        "female": {"distribution": "normal", "mean": 161.3, "sd": 7.0},
        "min": 140.0,
        "max": 210.0,
    },
    "age_years": {"distribution": "uniform", "low": 18.0, "high": 80.0},
    "child_pugh": {"none": 1.0},
    "source": "NHANES 2015-2018 anthropometric means (Fryar 2021); spreads and ages assumed",
}

# Children 1-14 years (the Herd 2007 range). Weight from the APLS estimate (age + 4) x 2 kg
# with a 15 % log-normal spread; height 77 + 6 x age cm: rough approximations, labelled so.
_CHILDREN: dict[str, Any] = {
    "female_fraction": 0.5,
    "age_years": {"distribution": "uniform", "low": 1.0, "high": 14.0},
    "weight_kg": {"apls": True, "cv": 0.15, "min": 8.0, "max": 80.0},
    "height_cm": {"from_age": True},
    "child_pugh": {"none": 1.0},
    "source": "ages 1-14 uniform; weight (age + 4) x 2 kg (APLS), 15 % spread: approximations",
}

# Illustrative hepatic-impairment mix (not epidemiology): lets a clinic see how impairment
# shifts the exposure distribution. An assumption, named in the output.
_HEPATIC_MIX: dict[str, Any] = {
    **_ADULTS,
    "child_pugh": {"none": 0.70, "A": 0.15, "B": 0.10, "C": 0.05},
    "source": "adults (NHANES means) with an illustrative Child-Pugh mix 70/15/10/5 % "
    "(none/A/B/C): an assumption, not epidemiology",
}

NAMED_POPULATIONS: Mapping[str, Mapping[str, Any]] = freeze(
    {"adults": _ADULTS, "children": _CHILDREN, "hepatic-mix": _HEPATIC_MIX}
)
del _ADULTS, _CHILDREN, _HEPATIC_MIX  # only the frozen copies are used


POPULATION_KEYS = (
    "age_years",
    "child_pugh",
    "ethnicity",
    "female_fraction",
    "height_cm",
    "source",
    "weight_kg",
)
_COVARIATE_KEYS = ("apls", "female", "from_age", "male", "max", "min")
_DISTRIBUTION_KEYS = ("cv", "distribution", "high", "low", "mean", "median", "sd")


def _check_keys(mapping: Mapping[Any, Any], accepted: tuple[str, ...], what: str) -> None:
    """A typo (``child_pug``) is refused by name, never silently ignored."""
    for key in mapping:
        if str(key) not in accepted:
            raise UserInputError(
                f"{what} key {str(key)!r} is not accepted; accepted: "
                + ", ".join(sorted(set(accepted)))
            )


def _check_description(population: Mapping[Any, Any]) -> None:
    _check_keys(population, POPULATION_KEYS, "population")
    for name in ("age_years", "height_cm", "weight_kg"):
        value = population.get(name)
        if not isinstance(value, Mapping):
            continue
        _check_keys(value, (*_COVARIATE_KEYS, *_DISTRIBUTION_KEYS), name)
        for sex in ("male", "female"):
            if isinstance(value.get(sex), Mapping):
                _check_keys(value[sex], _DISTRIBUTION_KEYS, f"{name} {sex}")


def population_spec(
    population: str | Mapping[str, Any], child_pugh_mix: Mapping[str, float] | None = None
) -> Mapping[str, Any]:
    """A validated population description (frozen) from a name or a parsed YAML/JSON mapping;
    a mapping takes the adult population's entries for what it leaves out."""
    if isinstance(population, str):
        key = population.strip().lower()
        if key not in NAMED_POPULATIONS:
            raise UserInputError(
                f"unknown population {population!r}; accepted: {', '.join(NAMED_POPULATIONS)} "
                "or a YAML file"
            )
        spec = dict(NAMED_POPULATIONS[key])
    elif isinstance(population, Mapping):
        _check_description(population)
        spec = {**NAMED_POPULATIONS["adults"], "source": "user description", **dict(population)}
    else:
        raise UserInputError("population must be a name or a mapping")
    if child_pugh_mix is not None:
        spec["child_pugh"] = dict(child_pugh_mix)
    _check_mix(spec.get("child_pugh", {"none": 1.0}))
    if "ethnicity" in spec:
        spec["ethnicity"] = _ethnicity_mix(spec["ethnicity"])
    frac = spec.get("female_fraction", 0.5)
    if not isinstance(frac, int | float) or not 0.0 <= float(frac) <= 1.0:
        raise UserInputError(f"female_fraction {frac!r} must be a number from 0 to 1")
    frozen: FrozenMap[str, Any] = freeze(spec)
    return frozen


def _ethnicity_mix(value: Any) -> dict[str, float]:
    """An ``ethnicity`` entry (one value for everyone, or a mix of fractions adding up to 1)
    as a mix; only models with a published ethnicity covariate use it (Perez-Ruixo 2021)."""
    accepted = ", ".join(e.value for e in Ethnicity)
    mix = value if isinstance(value, Mapping) else {value: 1.0}
    if not mix:
        raise UserInputError(f"ethnicity mix is empty; accepted: {accepted}")
    out: dict[str, float] = {}
    for group, frac in mix.items():
        text = str(group).strip().lower()
        if text not in {e.value for e in Ethnicity}:
            raise UserInputError(f"ethnicity {group!r} is not accepted; accepted: {accepted}")
        if isinstance(frac, bool) or not isinstance(frac, int | float) or not frac >= 0:
            raise UserInputError(f"ethnicity fraction for {group} must be a number >= 0")
        out[text] = float(frac)
    total = sum(out.values())
    if abs(total - 1.0) > 1e-6:
        raise UserInputError(f"ethnicity fractions must add up to 1, got {total:g}")
    return out


def _check_mix(mix: Any) -> None:
    if not isinstance(mix, Mapping) or not mix:
        raise UserInputError("child_pugh mix must map classes (none, A, B, C) to fractions")
    for cls, frac in mix.items():
        if str(cls) not in _CHILD_PUGH:
            raise UserInputError(
                f"Child-Pugh class {cls!r} is not accepted; accepted: {', '.join(_CHILD_PUGH)}"
            )
        if not isinstance(frac, int | float) or frac < 0:
            raise UserInputError(f"Child-Pugh fraction for {cls} must be a number >= 0")
    total = float(sum(mix.values()))
    if abs(total - 1.0) > 1e-6:
        raise UserInputError(f"Child-Pugh fractions must add up to 1, got {total:g}")


@dataclass(frozen=True)
class _Dist:
    """A parsed distribution: ``loc`` and ``scale`` are (value, 0), (median, log-SD),
    (mean, SD) or (low, high - low) for a constant, lognormal, normal or uniform."""

    kind: str
    loc: float
    scale: float


def _number(value: Any, what: str) -> float:
    """A finite number (YAML's ``yes``/``true`` and ``.nan`` are refused by name)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UserInputError(f"{what} {value!r} is not accepted; accepted: a finite number")
    return float(value)


def _parse_dist(dist: Any, what: str) -> _Dist:
    if isinstance(dist, int | float):
        return _Dist("constant", _number(dist, what), 0.0)
    if not isinstance(dist, Mapping):
        raise UserInputError(
            f"{what} {dist!r} is not accepted; accepted: a number or a distribution mapping"
        )
    kind = dist.get("distribution")
    try:
        if kind == "lognormal":
            median = _number(dist["median"], f"{what} median")
            return _Dist("lognormal", median, lognormal_sd(_number(dist["cv"], f"{what} cv")))
        if kind == "normal":
            mean, sd = _number(dist["mean"], f"{what} mean"), _number(dist["sd"], f"{what} sd")
            return _Dist("normal", mean, sd)
        if kind == "uniform":
            low = _number(dist["low"], f"{what} low")
            return _Dist("uniform", low, _number(dist["high"], f"{what} high") - low)
    except KeyError as exc:
        raise UserInputError(f"{what}: the {kind} distribution needs {exc.args[0]!r}") from None
    raise UserInputError(
        f"{what}: distribution {kind!r} is not accepted; accepted: lognormal (median, cv), "
        "normal (mean, sd), uniform (low, high)"
    )


@dataclass(frozen=True)
class _Covariate:
    """One sampled covariate: its distribution for men and for women (the same object when
    it does not depend on sex), its clipping range and the raw rows it reads (-1: none)."""

    male: _Dist
    female: _Dist
    low: float
    high: float
    u_row: int
    z_row: int


@dataclass(frozen=True)
class _Plan:
    """How one block's raw draws become covariates; fixed by the population description.

    Uniform rows 0 and 1 are sex and Child-Pugh class, then one row per covariate that needs
    one; normal rows are one per covariate that needs one, then one per IIV name.
    """

    female_fraction: float
    age: _Covariate
    weight: _Covariate
    apls_weight: bool  # weight is lognormal around the APLS estimate (age + 4) x 2 kg
    height: _Covariate | None  # None: from age
    classes: tuple[str, ...]
    edges: tuple[float, ...]  # class k starts at the k-th edge of the cumulative mix
    uniform_rows: int
    normal_rows: int
    # ethnicity: its groups and edges as for Child-Pugh. A mix draws from the block's first
    # child stream (``Generator.spawn``), never from the block's own rows, so a population
    # draws the same other covariates and random effects with or without one
    ethnicities: tuple[str, ...] = ()
    ethnicity_edges: tuple[float, ...] = ()

    @property
    def ethnicity_mix(self) -> bool:
        return len(self.ethnicities) > 1


def _plan(spec: Mapping[str, Any]) -> _Plan:
    """Parse ``spec`` once (raising its errors in the order age, weight, height)."""
    rows = {"uniform": 2, "normal": 0}

    def take(kinds: set[str]) -> tuple[int, int]:
        u_row = z_row = -1
        if "uniform" in kinds:
            u_row, rows["uniform"] = rows["uniform"], rows["uniform"] + 1
        if kinds & {"normal", "lognormal"}:
            z_row, rows["normal"] = rows["normal"], rows["normal"] + 1
        return u_row, z_row

    def covariate(value: Any, what: str, low: float, high: float) -> _Covariate:
        if isinstance(value, Mapping) and "male" in value and "female" in value:
            male, female = _parse_dist(value["male"], what), _parse_dist(value["female"], what)
        else:
            male = female = _parse_dist(value, what)
        if isinstance(value, Mapping):
            low = max(low, float(value.get("min", -np.inf)))
            high = min(high, float(value.get("max", np.inf)))
        return _Covariate(male, female, low, high, *take({male.kind, female.kind}))

    age_dist = _parse_dist(spec["age_years"], "age_years")  # not by sex, no min/max
    age = _Covariate(age_dist, age_dist, AGE_YEARS.low, AGE_YEARS.high, *take({age_dist.kind}))
    weight_spec = spec["weight_kg"]
    apls = isinstance(weight_spec, Mapping) and bool(weight_spec.get("apls"))
    if apls:
        sigma = lognormal_sd(float(weight_spec.get("cv", 0.15)))
        dist = _Dist("lognormal", np.nan, sigma)  # the median is per patient
        low, high = float(weight_spec.get("min", 2)), float(weight_spec.get("max", 300))
        weight = _Covariate(dist, dist, low, high, *take({"lognormal"}))
    else:
        weight = covariate(weight_spec, "weight_kg", -np.inf, np.inf)
    height_spec = spec.get("height_cm", 170.0)
    height = None
    if not (isinstance(height_spec, Mapping) and height_spec.get("from_age")):
        height = covariate(height_spec, "height_cm", -np.inf, np.inf)
    mix = spec.get("child_pugh", {"none": 1.0})
    cum = np.cumsum([float(mix[c]) for c in mix])
    groups = {g: f for g, f in dict(spec.get("ethnicity") or {}).items() if f > 0}
    group_cum = np.cumsum(list(groups.values())) if groups else np.ones(1)
    return _Plan(
        float(spec.get("female_fraction", 0.5)),
        age,
        weight,
        apls,
        height,
        tuple(str(c) for c in mix),
        tuple(float(e) for e in cum[:-1] / cum[-1]),
        rows["uniform"],
        rows["normal"],
        tuple(groups),
        tuple(float(e) for e in group_cum[:-1] / group_cum[-1]),
    )


def _by_sex(male: float, female: float, is_female: NDArray[np.bool_]) -> Any:
    """``female`` where ``is_female``, else ``male``; a scalar when both are equal."""
    if male == female:
        return male
    return np.array([male, female]).take(is_female.view(np.uint8))


def _transform(
    d: _Dist, loc: Any, scale: Any, c: _Covariate, u: FloatArray, z: FloatArray
) -> FloatArray:
    """Values of ``d`` (``loc``/``scale`` scalars or per-patient) from the raw draws."""
    if d.kind == "constant":
        return np.array(np.broadcast_to(loc, (u.shape[0], u.shape[2])), dtype=float)
    raw = u[:, c.u_row] if d.kind == "uniform" else z[:, c.z_row]
    out: FloatArray = np.multiply(raw, scale)
    if d.kind == "lognormal":
        np.exp(out, out=out)
        out *= loc
    else:
        out += loc
    return out


def _values(
    c: _Covariate, u: FloatArray, z: FloatArray, female: NDArray[np.bool_], loc: Any = None
) -> FloatArray:
    """Covariate ``c`` from raw draws shaped ``(blocks, rows, BLOCK_SIZE)``; ``loc``, if
    given, replaces the distribution's location (a per-patient median)."""
    m, f = c.male, c.female
    if m.kind == f.kind:  # one draw per patient; the sex picks its median/mean and spread
        loc = _by_sex(m.loc, f.loc, female) if loc is None else loc
        scale = _by_sex(m.scale, f.scale, female)
        values = _transform(m, loc, scale, c, u, z)
    else:
        values = np.where(
            female, _transform(f, f.loc, f.scale, c, u, z), _transform(m, m.loc, m.scale, c, u, z)
        )
    if c.low > -np.inf or c.high < np.inf:
        np.clip(values, c.low, c.high, out=values)
    return values


def _covariates(
    plan: _Plan, u: FloatArray, z: FloatArray, e: FloatArray | None = None
) -> Covariates:
    """Covariates of every patient of raw draws shaped ``(blocks, rows, BLOCK_SIZE)``;
    ``e`` (``(blocks, BLOCK_SIZE)`` uniforms) picks each patient's group of an ethnicity mix."""
    female = u[:, 0] < plan.female_fraction
    age = _values(plan.age, u, z, female)
    weight = _values(plan.weight, u, z, female, (age + 4.0) * 2.0 if plan.apls_weight else None)
    height = 77.0 + 6.0 * age if plan.height is None else _values(plan.height, u, z, female)
    if weight.min() < WEIGHT_KG.low or weight.max() > WEIGHT_KG.high:
        raise UserInputError(f"sampled weights leave the accepted range {WEIGHT_KG.describe()}")
    np.clip(height, HEIGHT_CM.low, HEIGHT_CM.high, out=height)
    child_pugh = _categories(plan.classes, plan.edges, u[:, 1])
    ethnicity = None
    if plan.ethnicities:
        draws = e if e is not None else np.zeros(female.shape)  # one group: no draw needed
        ethnicity = _categories(plan.ethnicities, plan.ethnicity_edges, draws).reshape(-1)
    return Covariates(
        weight.reshape(-1),
        age.reshape(-1),
        female.reshape(-1),
        height.reshape(-1),
        child_pugh.reshape(-1),
        ethnicity,
    )


def _categories(
    classes: tuple[str, ...], edges: tuple[float, ...], draws: FloatArray
) -> NDArray[np.str_]:
    """The class of each uniform draw: class k starts at the k-th edge of the mix."""
    if len(classes) == 1:
        return np.full(draws.shape, classes[0])
    index = np.zeros(draws.shape, dtype=np.intp)
    for edge in edges:  # the number of class boundaries at or below the draw
        index += draws >= edge
    return np.array(classes, dtype=str)[index]


def sample_covariates(spec: Mapping[str, Any], rng: np.random.Generator, n: int) -> Covariates:
    """Covariates of ``n`` patients drawn from ``rng`` with the same rows as a block."""
    plan = _plan(spec)
    e = rng.spawn(1)[0].random((1, n)) if plan.ethnicity_mix else None
    u = rng.random((1, plan.uniform_rows, n))
    z = rng.standard_normal((1, plan.normal_rows, n))
    return _covariates(plan, u, z, e)


# --- whole virtual patients ------------------------------------------------------------------


def sample_patients(
    population: Mapping[str, Any],
    model: PKModel,
    routes: Sequence[Route],
    variability: Variability,
    seed: int,
    first_block: int,
    blocks: int,
    n_total: int,
    submit: Submit | None = None,
    scratch: dict[str, FloatArray] | None = None,
) -> tuple[Covariates, dict[str, FloatArray]]:
    """Covariates and parameters (IIV applied) of patients ``first_block * BLOCK_SIZE`` up
    to ``min(n_total, (first_block + blocks) * BLOCK_SIZE)``.

    Each block's generator draws its whole block at once (uniform rows, then normal rows;
    see ``_Plan``), so patient ``i`` is the same virtual patient whatever the chunk. The
    draws are then transformed for the whole chunk at once, with one call of
    ``model.parameters``. With ``submit`` (an executor's), a helper thread draws half the
    blocks of a large chunk (NumPy's generators release the GIL): the same numbers, sooner.
    With ``scratch`` (a dict kept by the caller), the raw draws go into buffers kept there
    and reused by the next call (fresh memory costs a page fault per 4 kB; nothing returned
    refers to them).

    >>> from ketaclinic.pharmacology import Route, get_model, parse_variability, population_spec
    >>> domino = get_model("domino")
    >>> var = parse_variability("CL=0.3", domino)
    >>> adults = population_spec("adults")
    >>> cov, params = sample_patients(adults, domino, (Route.IV,), var, 1, 0, 2, 1500)
    >>> cov.n, params["CL"].shape
    (1500, (1500,))
    >>> _, tail = sample_patients(adults, domino, (Route.IV,), var, 1, 1, 1, 1500)
    >>> bool(np.array_equal(tail["CL"], params["CL"][BLOCK_SIZE:]))
    True
    """
    start = first_block * BLOCK_SIZE
    if first_block < 0 or blocks < 1 or not start < n_total:
        raise UserInputError(
            f"blocks {first_block}..{first_block + blocks - 1} hold none of {n_total} patients"
        )
    blocks = min(blocks, -(-n_total // BLOCK_SIZE) - first_block)
    count = min(n_total - start, blocks * BLOCK_SIZE)
    plan = _plan(population)
    omega = variability.omega()
    u = scratch_buffer(scratch, "draws_u", (blocks, plan.uniform_rows, BLOCK_SIZE))
    z = scratch_buffer(scratch, "draws_z", (blocks, plan.normal_rows + len(omega), BLOCK_SIZE))
    e = scratch_buffer(scratch, "draws_e", (blocks, BLOCK_SIZE)) if plan.ethnicity_mix else None

    def draw(part: range) -> None:
        for i in part:
            rng = block_rng(seed, first_block + i)
            if e is not None:
                rng.spawn(1)[0].random(out=e[i])
            rng.random(out=u[i])
            rng.standard_normal(out=z[i])

    if submit is not None and blocks >= THREADED_BLOCKS:
        half = blocks // 2
        other = submit(draw, range(half, blocks))
        draw(range(half))
        other.result()
    else:
        draw(range(blocks))
    cov = _covariates(plan, u, z, e)
    if count < cov.n:
        cov = cov.head(count)
    params = model.parameters(cov, routes)
    paths = model.paths(routes)
    apply_iiv(
        params,
        omega,
        [z[:, plan.normal_rows + j] for j in range(len(omega))],
        [p.ka_name for p in paths],
        [p.f_name for p in paths],
    )
    return cov, params
