"""The synthetic data-package generator: background data (clean by construction) plus planted cases.

Everything is drawn from one numpy Generator seeded with ``seed``, in a fixed order, so the same seed
writes the same bytes. See docs/generator.md for what is planted and how the city scale is calibrated.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.generator import catalog as cat
from pipeline.generator.columns import NULL_DAY, add_months, day, id_numbers, month_start

YEAR = 2023
AS_OF = "2024-06-30"
LEVEL_DIGITS = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
PLATE_LETTER = {"4301": "A", "4302": "B", "4303": "C", "4304": "D", "4305": "E", "4306": "F", "4307": "J",
                "4308": "G", "4309": "H", "4310": "L", "4311": "M", "4312": "N", "4313": "K", "4331": "U"}


@dataclass(frozen=True)
class Profile:
    villages_per_county: int | None     # None = every village of the area
    hh_mean: float                      # households per village (people.csv holds their members)
    periods: int                        # payments a year of the periodic allowances (4 = quarterly)
    income_per_village: float
    expense_per_village: float          # ledger expenses not linked to a project
    projects_per_village: float
    complaints_per_village: float
    invoice_lambda: float = 1.6         # extra invoices per expense >= 1,000 (Poisson)
    plants_per_rule: int = 3
    targets: dict = field(default_factory=dict)
    # R18-safe spacing keyed on the counterparty's name (see _expense_counterparties); False keeps the
    # historical key (shop index), which can let three small payments to the power company of one village
    # fall into 7 days -- it did at province scale (6 false R18 clues with seed 1), not at demo/city seed 1
    spacing_by_name: bool = False


# Hengyang's first year on the platform (the figures the platform published), used at city scale.
HENGYANG = dict(income_n=83_000, income_total=4_723_000_000, expense_n=165_300, invoices_n=426_300,
                invoices_total=4_667_000_000, funds_n=196, contract_total=1_484_000_000,
                paid_total=2_441_000_000, received=524, accepted=502, closed=412, substantiated=160,
                involved_total=23_570_000)

PROFILES = {
    "demo": Profile(villages_per_county=3, hh_mean=42, periods=4, income_per_village=14, expense_per_village=26,
                    projects_per_village=1.5, complaints_per_village=0.4, plants_per_rule=3),
    "city": Profile(villages_per_county=None, hh_mean=46, periods=4, income_per_village=29.8,
                    expense_per_village=51.2, projects_per_village=3.0, complaints_per_village=0.19,
                    plants_per_rule=3, targets=HENGYANG),
    "province": Profile(villages_per_county=None, hh_mean=50, periods=12, income_per_village=10,
                        expense_per_village=20, projects_per_village=1.0, complaints_per_village=0.19,
                        plants_per_rule=5, spacing_by_name=True),
}


def lognormal(rng, mean, sigma, n):
    """Log-normal draws with the given arithmetic mean."""
    return rng.lognormal(np.log(mean) - sigma * sigma / 2, sigma, n)


class Package:
    """The generated package, held as numpy arrays until it is written (see write.py)."""

    def __init__(self, scale: str, seed: int, city: str | None):
        from pipeline.geo.reference import load_divisions
        if scale not in PROFILES:
            raise ValueError(f"unknown scale {scale!r} (demo, city, province)")
        self.scale, self.seed = scale, seed
        self.prof = PROFILES[scale]
        # the fund catalogue of this scale (the province adds its own items after the common ones)
        self.templates = cat.TEMPLATES + (cat.PROVINCE_TEMPLATES if scale == "province" else ())
        self.rng = np.random.default_rng(seed)
        self.as_of = day(AS_OF)
        self.div = load_divisions()
        self.city = (city or ("4304" if scale == "city" else None))
        if self.city is not None:
            self.city = str(self.city)[:4]
        self.truth: list[tuple[str, str, str]] = []
        self.near: list[tuple[str, str, str]] = []

    # ------------------------------------------------------------------ geography
    def geography(self):
        d = self.div
        vil = d[d.level == "village"]
        if self.city:
            vil = vil[vil.code.str.startswith(self.city)]
            if vil.empty:
                raise ValueError(f"no villages under city {self.city}")
        vil = vil.sort_values("code").reset_index(drop=True)
        if self.prof.villages_per_county:
            rng = self.rng
            vil["county"] = vil.code.str[:6]
            keep = []
            for _, g in vil.groupby("county", sort=True):
                towns = g.code.str[:9].unique()
                pick_t = rng.choice(towns, size=min(len(towns), 2), replace=False)
                cand = g[g.code.str[:9].isin(pick_t)]
                k = min(len(cand), self.prof.villages_per_county)
                keep.extend(sorted(rng.choice(cand.code.to_numpy(), size=k, replace=False)))
            vil = vil[vil.code.isin(keep)].reset_index(drop=True)
        self.v_code = vil.code.to_numpy().astype(object)
        self.v_name = vil.name.to_numpy().astype(object)
        name_of = dict(zip(d.code, d.name))
        self.name_of = name_of
        t_codes = np.array([c[:9] + "000" for c in self.v_code], dtype=object)
        c_codes = np.array([c[:6] + "000000" for c in self.v_code], dtype=object)
        y_codes = np.array([c[:4] + "00000000" for c in self.v_code], dtype=object)
        self.towns, self.v_town = np.unique(t_codes, return_inverse=True)
        self.counties, self.v_county = np.unique(c_codes, return_inverse=True)
        self.cities, self.v_city = np.unique(y_codes, return_inverse=True)
        self.c_city = np.unique(np.array([c[:4] + "00000000" for c in self.counties], dtype=object),
                                return_inverse=True)[1]
        self.nv = len(self.v_code)

    def level_index(self, level: str) -> np.ndarray:
        """Per village: the index of its region at ``level`` (0 for the province)."""
        return {"province": np.zeros(self.nv, dtype=np.int64), "city": self.v_city, "county": self.v_county,
                "township": self.v_town, "village": np.arange(self.nv)}[level]

    def level_codes(self, level: str) -> np.ndarray:
        return {"province": np.array(["430000000000"], dtype=object), "city": self.cities,
                "county": self.counties, "township": self.towns, "village": self.v_code}[level]

    # ------------------------------------------------------------------ people
    def people(self):
        rng, prof = self.rng, self.prof
        H = np.maximum(rng.poisson(prof.hh_mean, self.nv), 8)
        hh_v = np.repeat(np.arange(self.nv), H)
        nh = len(hh_v)
        size = rng.choice(np.arange(1, 7), size=nh, p=[0.13, 0.26, 0.24, 0.19, 0.12, 0.06])
        hh_first = np.r_[0, np.cumsum(size)[:-1]]
        p_hh = np.repeat(np.arange(nh), size)
        n = len(p_hh)
        pos = np.arange(n) - hh_first[p_hh]
        sz = size[p_hh]
        rel = np.full(n, 2, dtype=np.int8)                      # 子女
        rel[pos == 0] = 0                                        # 户主
        spouse = (pos == 1) & (rng.random(n) < 0.85)
        rel[spouse] = 1
        parent = (pos == sz - 1) & (sz >= 4) & (rng.random(n) < 0.45)
        rel[parent] = 3
        rel[(rel == 2) & (rng.random(n) < 0.03)] = 4             # 其他
        head_age = np.clip(rng.normal(55, 13, nh), 24, 95).astype(np.int64)
        ha = head_age[p_hh]
        age = np.empty(n, dtype=np.int64)
        age[rel == 0] = ha[rel == 0]
        m = rel == 1
        age[m] = np.clip(ha[m] + rng.integers(-4, 3, m.sum()), 20, 98)
        m = (rel == 2) | (rel == 4)
        age[m] = np.clip(ha[m] - 24 - 3 * np.maximum(pos[m] - 2, 0) - rng.integers(0, 8, m.sum()), 0, 80)
        m = rel == 3
        age[m] = np.clip(ha[m] + rng.integers(22, 32, m.sum()), 45, 101)
        sex = np.where(rel == 0, rng.random(n) < 0.88, rng.random(n) < 0.5)      # True = male
        head_male = sex[hh_first][p_hh]
        sex[rel == 1] = ~head_male[rel == 1]
        sex[rel == 3] = rng.random((rel == 3).sum()) < 0.4
        birth = day(f"{YEAR}-01-01") - age * 365 - rng.integers(1, 365, n) - age // 4
        birth[age == 0] = day(f"{YEAR}-01-01") + rng.integers(0, 300, (age == 0).sum())
        v = hh_v[p_hh]
        county6 = np.array([int(c[:6]) for c in self.counties])[self.v_county[v]]
        seq = self._seq(county6, birth, sex, 0)
        # households: poverty-registered ones (建档立卡); single elders are poorer
        single_old = (size == 1) & (head_age >= 60)
        poor_hh = rng.random(nh) < np.where(single_old, 0.6, 0.14)
        # names: the household's surname for the head, children, others; the spouse has her own
        sur_names = [s for s, _ in cat.SURNAMES]
        w = np.array([x for _, x in cat.SURNAMES], dtype=float)
        hh_sur = rng.choice(len(sur_names), size=nh, p=w / w.sum())
        sur = hh_sur[p_hh]
        own = (rel == 1) | (rel == 4) | ((rel == 3) & ~sex)
        sur[own] = rng.choice(len(sur_names), size=own.sum(), p=w / w.sum())
        self.p_name = self._names(sur, sex, sur_names)
        self.p_v, self.p_hh, self.p_rel, self.p_age, self.p_sex, self.p_birth = v, p_hh, rel, age, sex, birth
        self.p_id = id_numbers(county6, birth, seq)
        self.p_county6 = county6
        self.hh_v, self.hh_size, self.hh_first, self.hh_poor = hh_v, size, hh_first, poor_hh
        self.p_poor = poor_hh[p_hh]
        disabled = rng.random(n) < np.where(age >= 60, 0.07, 0.03)
        self.p_dis = np.where(disabled, rng.choice([1, 2, 3, 4], size=n, p=[0.12, 0.25, 0.33, 0.30]), 0).astype(np.int8)
        self.np = n
        # household numbers: unique inside the village
        first_of_v = np.r_[0, np.cumsum(np.bincount(hh_v, minlength=self.nv))[:-1]]
        self.hh_no = np.arange(nh) - first_of_v[hh_v] + 1
        self.reserved = np.zeros(n, dtype=bool)
        self.cadre_hh = np.zeros(nh, dtype=bool)

    def _seq(self, county6, birth, sex, base):
        """The 3-digit order code: distinct within (county, birth date); odd for men."""
        key = county6.astype(np.int64) * 100000 + (birth.astype(np.int64) + 40000)
        order = np.argsort(key, kind="stable")
        k = key[order]
        start = np.r_[True, k[1:] != k[:-1]]
        grp_start = np.maximum.accumulate(np.where(start, np.arange(len(k)), 0))
        rank = np.empty(len(k), dtype=np.int64)
        rank[order] = np.arange(len(k)) - grp_start
        if rank.max(initial=0) >= 120:
            raise ValueError("too many people born on one day in one county")
        offset = self.rng.integers(0, 5, len(k)) * 0
        return base + 2 * (rank + offset) + sex.astype(np.int64)

    def _names(self, sur, sex, sur_names) -> pa.Array:
        rng = self.rng
        n = len(sur)
        male, female = np.array(list(cat.MALE_CHARS), dtype=object), np.array(list(cat.FEMALE_CHARS), dtype=object)
        g1 = np.where(sex, male[rng.integers(0, len(male), n)], female[rng.integers(0, len(female), n)])
        g2 = np.where(sex, male[rng.integers(0, len(male), n)], female[rng.integers(0, len(female), n)])
        g2 = np.where(rng.random(n) < 0.72, g2, "")
        import pyarrow.compute as pc
        return pc.binary_join_element_wise(pa.array(np.array(sur_names, dtype=object)).take(pa.array(sur)),
                                           pa.array(g1, pa.string()), pa.array(g2, pa.string()), "")

    def person_names(self, n, male=None) -> list[str]:
        """Names for people outside people.csv (officials, contractors' legal persons, complainants)."""
        sur_names = [s for s, _ in cat.SURNAMES]
        w = np.array([x for _, x in cat.SURNAMES], dtype=float)
        sur = self.rng.choice(len(sur_names), size=n, p=w / w.sum())
        sex = self.rng.random(n) < 0.6 if male is None else np.full(n, male)
        return self._names(sur, sex, sur_names).to_pylist()

    def external_ids(self, n, base) -> tuple[pa.Array, np.ndarray]:
        """ID numbers of people who are not in people.csv (order codes from ``base`` up, so they never
        collide with the residents' numbers, which use 000-499)."""
        county6 = np.array([int(c[:6]) for c in self.counties])[self.rng.integers(0, len(self.counties), n)]
        age = self.rng.integers(25, 62, n)
        birth = day(f"{YEAR}-01-01") - age * 365 - self.rng.integers(0, 365, n)
        sex = self.rng.random(n) < 0.7
        return id_numbers(county6, birth, self._seq(county6, birth, sex, base)), county6

    # ------------------------------------------------------------------ cadres and the reserve
    def cadres(self):
        """Village cadres (current: elected in the 2021 换届; former: the previous term), and the
        reserve: per village one ordinary household and one current cadre's household that get no
        background payments and no register rows, for the planted cases."""
        rng = self.rng
        hh_v, first = self.hh_v, self.hh_first
        head = first
        age_h = self.p_age[head]
        order = rng.permutation(len(hh_v))
        # per village, candidate households in a random order
        cand = order[np.argsort(hh_v[order], kind="stable")]
        cv = hh_v[cand]
        rank = np.arange(len(cand)) - np.r_[0, np.cumsum(np.bincount(cv, minlength=self.nv))[:-1]][cv]
        ok = (~self.hh_poor[cand]) & (age_h[cand] >= 28) & (age_h[cand] <= 62) & (self.hh_size[cand] >= 2)
        # rank among eligible households in each village
        ok_idx = cand[ok]
        okv = hh_v[ok_idx]
        r2 = np.arange(len(ok_idx)) - np.r_[0, np.cumsum(np.bincount(okv, minlength=self.nv))[:-1]][okv]
        n_cur = 4 + (rng.random(self.nv) < 0.5)
        cur = ok_idx[r2 < n_cur[okv]]
        former = ok_idx[(r2 >= n_cur[okv]) & (r2 < n_cur[okv] + 2)]
        reserve_hh = ok_idx[r2 == n_cur[okv] + 2]                   # ordinary reserved household
        del rank
        self.cadre_hh[cur] = True
        cur_v = hh_v[cur]
        cur_rank = np.arange(len(cur)) - np.r_[0, np.cumsum(np.bincount(cur_v, minlength=self.nv))[:-1]][cur_v]
        roles = np.array(cat.CADRE_ROLES, dtype=object)
        self.cad_person = np.r_[head[cur], head[former]]
        self.cad_v = np.r_[cur_v, hh_v[former]]
        self.cad_role = np.r_[roles[np.minimum(cur_rank, 4)], roles[rng.integers(0, 4, len(former))]]
        n1, n2 = len(cur), len(former)
        self.cad_start = np.r_[day("2021-01-15") + rng.integers(0, 60, n1), day("2017-12-20") + rng.integers(0, 60, n2)]
        self.cad_end = np.r_[np.full(n1, NULL_DAY), day("2020-12-31") + rng.integers(0, 30, n2)]
        self.cad_current = np.r_[np.ones(n1, bool), np.zeros(n2, bool)]
        # the reserve: whole households
        res_cadre_hh = cur[cur_rank == 1]                            # one current cadre (the 村委会主任) per village
        mark = np.zeros(len(hh_v), dtype=bool)
        mark[reserve_hh] = True
        mark[res_cadre_hh] = True
        self.reserved = mark[self.p_hh]
        self.reserve_hh_of_v = np.full(self.nv, -1)
        self.reserve_hh_of_v[hh_v[reserve_hh]] = reserve_hh
        self.reserve_cadre_hh_of_v = np.full(self.nv, -1)
        self.reserve_cadre_hh_of_v[hh_v[res_cadre_hh]] = res_cadre_hh
        self.p_cadre_hh = self.cadre_hh[self.p_hh]

    # ------------------------------------------------------------------ funds
    def funds(self):
        rows = []
        self.item_of = {}
        for t_i, t in enumerate(self.templates):
            codes = self.level_codes(t.level)
            self.item_of[t.key] = np.arange(len(rows), len(rows) + len(codes))
            k = sum(1 for x in self.templates[:t_i] if x.level == t.level) + 1
            for c in codes:
                prefix = c[:LEVEL_DIGITS[t.level]]
                region = "" if t.level == "province" else self.name_of[c]
                std = None
                if t.std_annual is not None:
                    std = int(round(t.std_annual * 100)) // self.prof.periods
                elif t.std is not None:
                    std = int(round(t.std * 100))
                rows.append(dict(fund_code=f"F{YEAR}{prefix}{k:02d}", name=f"{YEAR}年{region}{t.name}",
                                 category=t.category, year=YEAR, issuing_region_code=c, std=std,
                                 payment_unit=t.unit, tpl=t_i, level=t.level))
        self.fund = pd.DataFrame(rows)
        self.f_code = self.fund.fund_code.to_numpy().astype(object)
        self.f_tpl = self.fund.tpl.to_numpy()
        self.f_std = self.fund["std"].to_numpy(dtype=object)

    def item(self, key: str, v) -> np.ndarray:
        """The fund item of template ``key`` that covers village(s) ``v``."""
        t = next(x for x in self.templates if x.key == key)
        return self.item_of[key][self.level_index(t.level)[v]]

    # ------------------------------------------------------------------ background payments
    def eligible(self, key: str) -> np.ndarray:
        age, poor, rel = self.p_age, self.p_poor, self.p_rel
        head = rel == 0
        single = self.hh_size[self.p_hh] == 1
        e = {
            "heads": head, "heads_nonpoor": head & ~poor, "poverty_hh": head & poor,
            "poverty_person": poor & (age >= 1), "poverty_adult": poor & (age >= 18) & (age <= 60),
            "tekun": single & poor & (age >= 60), "tekun_old": single & poor & (age >= 75),
            "disabled_poor": (self.p_dis > 0) & poor & (age >= 1), "disabled_severe": (self.p_dis > 0) & (self.p_dis <= 2) & (age >= 1),
            "age80": (age >= 80) & (age <= 89), "age90": age >= 90, "age60": age >= 60,
            "pupil": (age >= 6) & (age <= 15) & poor, "highschool": (age >= 15) & (age <= 18) & poor,
            "student": (age >= 16) & (age <= 22) & poor, "poor_old": (age >= 65) & poor,
        }[key]
        return e & ~self.reserved

    def payments(self):
        rng, P = self.rng, self.prof.periods
        parts = []
        for t in self.templates:
            if t.mode == cat.PROJECT:
                continue
            elig = self.eligible(t.elig)
            if t.category in cat.MEANS_TESTED:
                elig &= ~self.p_cadre_hh
            who = np.flatnonzero(elig & (rng.random(self.np) < t.rate))
            items = self.item(t.key, self.p_v[who])
            if t.mode == cat.PERIODIC:
                start = np.where(rng.random(len(who)) < 0.85, 0, rng.integers(1, P, len(who)))
                cnt = P - start
                rep = np.repeat(np.arange(len(who)), cnt)
                k = np.arange(len(rep)) - np.repeat(np.r_[0, np.cumsum(cnt)[:-1]], cnt) + start[rep]
                months = 1 + k * (12 // P)
            elif t.mode == cat.TERMS:
                rep = np.repeat(np.arange(len(who)), 2)
                months = np.tile([3, 9], len(who))
            elif t.mode == cat.ANNUAL:
                rep = np.arange(len(who))
                months = np.full(len(who), t.month)
            else:
                rep = np.arange(len(who))
                months = rng.integers(2, 12, len(who))
            if t.std_annual is not None or t.std is not None:
                base = np.full(len(who), self.f_std[items[0]] if len(items) else 0, dtype=np.int64)
                var = np.zeros(len(rep), dtype=bool)
            else:
                per = t.mean / (P if t.mode == cat.PERIODIC else 1)
                base = np.maximum(np.round(lognormal(rng, per, t.sigma, len(who)) * 100), 1000).astype(np.int64)
                var = np.ones(len(rep), dtype=bool)
            ps = month_start(YEAR, months)
            parts.append(dict(p=who[rep], f=items[rep], m=months, amt=base[rep], var=var,
                              paid=ps + rng.integers(9, 22, len(rep))))
        cols = {k: np.concatenate([x[k] for x in parts]) for k in parts[0]}
        order = np.lexsort((cols["paid"], cols["p"], self.p_v[cols["p"]]))
        self.pay = {k: v[order] for k, v in cols.items()}
        self.pay["v"] = self.p_v[self.pay["p"]]
        tgt = self.prof.targets.get("paid_total")
        if tgt:
            var = self.pay["var"]
            fixed = self.pay["amt"][~var].sum()
            factor = (tgt * 100 * 0.999 - fixed) / self.pay["amt"][var].sum()
            self.pay["amt"][var] = np.round(self.pay["amt"][var] * factor).astype(np.int64)
        self.npay = len(self.pay["p"])
        mt_cat = np.array([self.templates[t].category in cat.MEANS_TESTED for t in self.f_tpl])
        self.mt_recipient = np.zeros(self.np, dtype=bool)
        self.mt_recipient[self.pay["p"][mt_cat[self.pay["f"]]]] = True
        self.recipient = np.zeros(self.np, dtype=bool)
        self.recipient[self.pay["p"]] = True
        # the last period start of each recipient (for deaths that do not fire R01)
        self.last_period = np.full(self.np, -1, dtype=np.int64)
        np.maximum.at(self.last_period, self.pay["p"], month_start(YEAR, self.pay["m"]))

    # ------------------------------------------------------------------ comparison registers
    def registers(self):
        rng, n = self.rng, self.np
        age, free = self.p_age, ~self.reserved
        adult = (age >= 18) & (age <= 75)
        R = {}
        # 财政供养人员: serving ones never receive means-tested money; retired ones (ended before 2023) may
        serving = np.flatnonzero(free & ~self.mt_recipient & ~self.p_cadre_hh & (age >= 22) & (age <= 59)
                                 & (rng.random(n) < 0.03))
        retired = np.flatnonzero(free & (age >= 60) & (age <= 80) & (rng.random(n) < 0.02))
        n_ext = max(1, len(serving) // 2)
        ext_ids, ext_c6 = self.external_ids(n_ext, 500)
        emp = np.array(cat.EMPLOYERS, dtype=object)
        pos = np.array(cat.POSITIONS, dtype=object)
        town_name = np.array([self.name_of[t] for t in self.towns], dtype=object)
        county_name = np.array([self.name_of[c] for c in self.counties], dtype=object)
        ppl = np.r_[serving, retired]
        ext_county = pd.Index(self.counties).get_indexer([f"{c}000000" for c in ext_c6])
        R["officials"] = dict(
            id_number=pa.concat_arrays([self.p_id.take(pa.array(ppl)), ext_ids]),
            name=pa.concat_arrays([self.p_name.take(pa.array(ppl)), pa.array(self.person_names(n_ext), pa.string())]),
            employer=np.r_[town_name[self.v_town[self.p_v[ppl]]] + emp[rng.integers(0, len(emp), len(ppl))],
                           county_name[ext_county] + np.array(["财政局", "教育局", "人民医院", "农业农村局"], dtype=object)[
                               rng.integers(0, 4, n_ext)]],
            position=pos[rng.integers(0, len(pos), len(ppl) + n_ext)],
            region_code=np.r_[self.towns[self.v_town[self.p_v[ppl]]], self.counties[ext_county]],
            start_date=np.r_[day("1995-01-01") + rng.integers(0, 10000, len(serving)),
                             day("1980-01-01") + rng.integers(0, 8000, len(retired)),
                             day("1995-01-01") + rng.integers(0, 10000, n_ext)],
            end_date=np.r_[np.full(len(serving), NULL_DAY), day("2010-01-01") + rng.integers(0, 4700, len(retired)),
                           np.full(n_ext, NULL_DAY)])
        # 车辆: cars and trucks only outside the means-tested; motorcycles and farm vehicles anywhere;
        # a few cars bought after the last payment (near-misses of R04 in the background)
        car = np.flatnonzero(free & ~self.mt_recipient & adult & (rng.random(n) < 0.07))
        moto = np.flatnonzero(free & adult & (self.p_rel <= 1) & (rng.random(n) < 0.15))
        late_car = np.flatnonzero(free & self.mt_recipient & adult & (rng.random(n) < 0.004))
        owners = np.r_[car, moto, late_car]
        vtype = np.r_[np.where(rng.random(len(car)) < 0.85, "car", "truck"),
                      np.where(rng.random(len(moto)) < 0.7, "motorcycle", "agricultural"),
                      np.full(len(late_car), "car")].astype(object)
        reg = np.r_[day("2008-01-01") + rng.integers(0, 5600, len(car) + len(moto)),
                    day("2024-02-01") + rng.integers(0, 140, len(late_car))]
        letters = np.array([PLATE_LETTER.get(c[:4], "D") for c in self.cities], dtype=object)
        alnum = np.array(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"), dtype=object)
        plate_tail = alnum[rng.integers(0, 10, (len(owners), 5))]
        plate_tail[:, 0] = alnum[rng.integers(10, len(alnum), len(owners))]
        plates = ("湘" + letters[self.v_city[self.p_v[owners]]] + plate_tail[:, 0] + plate_tail[:, 1] + plate_tail[:, 2]
                  + plate_tail[:, 3] + plate_tail[:, 4])
        R["vehicles"] = dict(owner_id=self.p_id.take(pa.array(owners)), plate=plates, vehicle_type=vtype,
                             registered_date=reg)
        # 不动产: rural homesteads for most households; commercial property outside the means-tested
        home = np.flatnonzero(free & (self.p_rel == 0) & (rng.random(n) < 0.8))
        comm = np.flatnonzero(free & ~self.mt_recipient & adult & (rng.random(n) < 0.05))
        owners = np.r_[home, comm]
        ptype = np.r_[np.full(len(home), "rural_homestead"),
                      np.array(["commercial_housing", "shop", "office"], dtype=object)[
                          rng.choice(3, len(comm), p=[0.8, 0.15, 0.05])]].astype(object)
        area = np.r_[rng.uniform(80, 240, len(home)), rng.uniform(45, 180, len(comm))].round(1)
        region = np.r_[self.v_code[self.p_v[home]], self.counties[self.v_county[self.p_v[comm]]]]
        R["real_estate"] = dict(owner_id=self.p_id.take(pa.array(owners)), property_type=ptype, area_m2=area,
                                region_code=region,
                                registered_date=day("1995-01-01") + rng.integers(0, 10400, len(owners)))
        # 市场主体: villagers' firms (active ones outside the means-tested; revoked/cancelled ones anywhere)
        act = np.flatnonzero(free & ~self.mt_recipient & (age >= 25) & (age <= 65) & (rng.random(n) < 0.015))
        dead = np.flatnonzero(free & (age >= 25) & (age <= 70) & (rng.random(n) < 0.006))
        owners = np.r_[act, dead]
        status = np.r_[np.full(len(act), "active"),
                       np.where(rng.random(len(dead)) < 0.5, "revoked", "cancelled")].astype(object)
        self.ent_rows = []
        firm_names = self.firm_names(self.v_county[self.p_v[owners]], len(owners), shops=True)
        self.add_enterprises(firm_names, self.p_id.take(pa.array(owners)), status,
                             day("2005-01-01") + rng.integers(0, 6500, len(owners)), self.v_county[self.p_v[owners]])
        # contractors: construction firms of each county whose legal persons live in town (not in people.csv)
        per = 6
        cc = np.repeat(np.arange(len(self.counties)), per)
        lp, _ = self.external_ids(len(cc), 750)
        names = self.firm_names(cc, len(cc), shops=False)
        first = len(self.ent_name_list())
        self.add_enterprises(names, lp, np.full(len(cc), "active", dtype=object),
                             day("2003-01-01") + rng.integers(0, 6000, len(cc)), cc, industry="建筑业")
        self.contractors = np.arange(first, first + len(cc)).reshape(len(self.counties), per)
        # 死亡人口: people who received nothing, and recipients who died in or after their last period
        p_die = np.where(age >= 80, 0.06, np.where(age >= 60, 0.012, 0.002))
        d1 = np.flatnonzero(free & ~self.recipient & (rng.random(n) < p_die))
        d2 = np.flatnonzero(free & self.recipient & (self.last_period >= 0) & (rng.random(n) < p_die * 0.3))
        R["deaths"] = dict(id_number=self.p_id.take(pa.array(np.r_[d1, d2])),
                           date_of_death=np.r_[day("2019-01-01") + rng.integers(0, 2000, len(d1)),
                                               self.last_period[d2] + rng.integers(0, 28, len(d2))])
        # 残疾人证: every disabled resident, certified before 2023
        dis = np.flatnonzero(free & (self.p_dis > 0))
        R["disabled_persons"] = dict(id_number=self.p_id.take(pa.array(dis)), disability_level=self.p_dis[dis].astype(np.int64),
                                     certified_date=day("2000-01-01") + rng.integers(0, 8000, len(dis)))
        # 村干部
        cp = self.cad_person
        R["village_cadres"] = dict(id_number=self.p_id.take(pa.array(cp)), name=self.p_name.take(pa.array(cp)),
                                   village_code=self.v_code[self.cad_v], role=self.cad_role,
                                   start_date=self.cad_start, end_date=self.cad_end)
        self.reg = {k: [v] for k, v in R.items()}

    def firm_names(self, county_idx, n, shops: bool) -> np.ndarray:
        rng = self.rng
        w = np.array(cat.FIRM_WORDS, dtype=object)
        kind = np.array(cat.SHOP_WORDS if shops else cat.COMPANY_WORDS, dtype=object)
        county = np.array([self.name_of[c] for c in self.counties], dtype=object)[county_idx]
        base = np.array([c.replace("县", "").replace("市", "").replace("区", "")[:2] for c in county], dtype=object)
        seq = np.arange(n).astype(str).astype(object)
        return (base + w[rng.integers(0, len(w), n)] + w[rng.integers(0, len(w), n)] + np.where(
            rng.random(n) < 0.5, "", seq) + kind[rng.integers(0, len(kind), n)]) if n else np.array([], dtype=object)

    def add_enterprises(self, names, legal_ids, status, registered, county_idx, industry=None):
        n = len(names)
        codes = credit_codes(self.rng, [self.counties[c][:6] for c in county_idx], len(self.ent_name_list()))
        ind = np.array(cat.INDUSTRIES, dtype=object)[self.rng.integers(0, len(cat.INDUSTRIES), n)] \
            if industry is None else np.full(n, industry, dtype=object)
        self.ent_rows.append(dict(credit_code=np.array(codes, dtype=object), name=np.asarray(names, dtype=object),
                                  industry=ind, legal_person_id=legal_ids, registered_date=np.asarray(registered),
                                  status=np.asarray(status, dtype=object)))

    def ent_name_list(self) -> list:
        return [x for r in self.ent_rows for x in r["name"]]

    def ent_field(self, field_: str) -> np.ndarray:
        vals = [r[field_] for r in self.ent_rows]
        if isinstance(vals[0], pa.Array):
            return np.array(pa.concat_arrays(vals).to_pylist(), dtype=object)
        return np.concatenate(vals)

    # ------------------------------------------------------------------ projects, ledger, invoices
    def projects(self):
        rng, prof = self.rng, self.prof
        ptpl = [t for t in self.templates if t.mode == cat.PROJECT]
        k = rng.poisson(prof.projects_per_village, self.nv)
        v = np.repeat(np.arange(self.nv), k)
        n = len(v)
        ti = rng.integers(0, len(ptpl), n)
        contract = lognormal(rng, 180000, 0.8, n)
        tgt = prof.targets.get("contract_total")
        if tgt:
            contract *= (tgt * 0.995) / contract.sum()
        contract = np.maximum(np.round(contract / 100), 200).astype(np.int64) * 10000     # whole hundreds of yuan
        accepted = rng.random(n) < 0.75
        start = np.where(accepted, day(f"{YEAR}-02-01") + rng.integers(0, 150, n), day(f"{YEAR}-08-01") + rng.integers(0, 120, n))
        end = start + rng.integers(60, 150, n)
        acc = np.where(accepted, end + rng.integers(5, 25, n), NULL_DAY)
        planned = np.zeros(n)
        unit = np.empty(n, dtype=object)
        names = np.empty(n, dtype=object)
        items = np.empty(n, dtype=np.int64)
        whole = np.zeros(n, dtype=bool)
        for j, t in enumerate(ptpl):
            m = ti == j
            kinds = cat.PROJECT_KINDS[t.project_kind]
            kk = rng.integers(0, len(kinds), m.sum())
            for q, (suffix, u, (lo, hi), w) in enumerate(kinds):
                mm = np.flatnonzero(m)[kk == q]
                names[mm] = self.v_name[v[mm]] + suffix
                unit[mm] = u
                whole[mm] = w
                planned[mm] = rng.integers(lo, hi + 1, len(mm)) if w else rng.uniform(lo, hi, len(mm)).round(1)
            items[m] = self.item(t.key, v[m])
        frac = rng.uniform(0.4, 0.8, n)
        done = np.where(accepted, planned, np.where(whole, np.maximum(np.floor(planned * frac), 1), np.round(planned * frac, 1)))
        done = np.where(~accepted & (done >= planned), planned * 0.5 if False else np.maximum(planned - 1, 0.5), done)
        contractor = self.contractors[self.v_county[v], rng.integers(0, self.contractors.shape[1], n)]
        self.prj = dict(v=v, item=items, name=names, contractor=contractor, contract=contract, planned=planned,
                        done=done, unit=unit, start=start, end=end, acc=acc)
        self.nprj = n
        # expenses: 30% advance, 40% progress, 27% after acceptance (3% warranty kept back); projects in
        # progress are paid at most 80% of the work done
        limit = np.floor(contract * done / planned).astype(np.int64)           # what the work done is worth
        a1 = np.minimum(contract * 30 // 100, limit)
        a2 = np.where(accepted, contract * 40 // 100, np.maximum(limit * 8 // 10 - a1, 0)).astype(np.int64)
        a3 = np.where(accepted, contract * 27 // 100, 0)
        d1 = start + rng.integers(0, 10, n)
        d2 = np.where(accepted, start + (end - start) // 2, np.minimum(start + rng.integers(40, 80, n), self.as_of - 40))
        d3 = np.where(accepted, acc + rng.integers(3, 25, n), NULL_DAY)
        rows = [(np.flatnonzero(a1 > 0), a1, d1), (np.flatnonzero(a2 > 0), a2, d2), (np.flatnonzero(accepted), a3, d3)]
        pidx = np.concatenate([r[0] for r in rows])
        amt = np.concatenate([r[1][r[0]] for r in rows])
        date = np.concatenate([r[2][r[0]] for r in rows])
        self.prj_exp = dict(project=pidx, amount=amt, date=date)

    def ledger(self):
        rng, prof = self.rng, self.prof
        tg = prof.targets
        # income
        ni = rng.poisson(prof.income_per_village, self.nv)
        vi = np.repeat(np.arange(self.nv), ni)
        ci = rng.choice(len(cat.INCOME_CATEGORIES), size=len(vi), p=[c[1] for c in cat.INCOME_CATEGORIES])
        amt_i = np.array([cat.INCOME_CATEGORIES[c][2] for c in range(len(cat.INCOME_CATEGORIES))])[ci] * \
            lognormal(rng, 1.0, 0.9, len(vi))
        if tg.get("income_total"):
            amt_i *= tg["income_total"] / amt_i.sum()
        amt_i = np.maximum(np.round(amt_i * 100), 5000).astype(np.int64)
        # expenses not linked to projects
        ne = rng.poisson(prof.expense_per_village, self.nv)
        ve = np.repeat(np.arange(self.nv), ne)
        ce = rng.choice(len(cat.EXPENSE_CATEGORIES), size=len(ve), p=[c[1] for c in cat.EXPENSE_CATEGORIES])
        means = np.array([c[2] for c in cat.EXPENSE_CATEGORIES])[ce]
        sig = np.array([c[3] for c in cat.EXPENSE_CATEGORIES])[ce]
        amt_e = means * np.exp(rng.normal(0, 1, len(ve)) * sig - sig * sig / 2)
        if tg.get("invoices_total"):
            other = self.prj_exp["amount"].sum() / 100
            big = amt_e >= 3000
            need = tg["invoices_total"] * 0.998 - other - amt_e[~big].sum()
            amt_e[big] *= need / amt_e[big].sum()
        amt_e = np.maximum(np.round(amt_e * 100), 2000).astype(np.int64)
        self.led_inc = dict(v=vi, cat=ci, amount=amt_i, date=day(f"{YEAR}-01-03") + rng.integers(0, 355, len(vi)))
        self.led_exp = dict(v=ve, cat=ce, amount=amt_e, date=day(f"{YEAR}-01-03") + rng.integers(0, 355, len(ve)))
        self._expense_counterparties()

    def _expense_counterparties(self):
        """Counterparties of the non-project expenses, their approval, and the R18-safe spacing: two small
        unapproved expenses of a village to one counterparty are at least 4 days apart, so no 7-day
        window ever holds three of them."""
        rng = self.rng
        e = self.led_exp
        n = len(e["v"])
        names = [c[0] for c in cat.EXPENSE_CATEGORIES]
        catname = np.array(names, dtype=object)[e["cat"]]
        # per village a few shops and firms (indices into a per-village pool)
        shop = rng.integers(0, 6, n)
        cp_kind = np.select([catname == "干部报酬", catname == "报刊费", catname == "水电费",
                             np.isin(catname, ["公益事业支出", "其他支出", "管理费支出"])], [0, 1, 2, 3], 4)
        e["cp_kind"], e["shop"] = cp_kind, shop
        # cadre paid: one of the village's current cadres
        cur = np.flatnonzero(self.cad_current)
        by_v = pd.Series(cur).groupby(self.cad_v[cur]).apply(list).to_dict()
        cadre = np.full(n, -1)
        for i in np.flatnonzero(cp_kind == 0):
            lst = by_v.get(e["v"][i])
            cadre[i] = self.cad_person[lst[shop[i] % len(lst)]] if lst else -1
        e["cadre_person"] = cadre
        e["cp_kind"][(cp_kind == 0) & (cadre < 0)] = 4
        approved = (e["amount"] >= 500000) | (e["cp_kind"] == 0) | (rng.random(n) < 0.45)
        # spacing of the small unapproved ones per (village, counterparty): the newspaper (kind 1) and the
        # power company (kind 2) are one counterparty whatever ``shop`` says (write.py names them by city
        # and county), so ``shop`` only tells shops and firms (kinds 3, 4) apart. Demo and city keep the
        # old key (Profile.spacing_by_name False) so that their seeds give the same bytes as before.
        small = np.flatnonzero(~approved)
        shop_key = e["shop"][small]
        if self.prof.spacing_by_name:
            shop_key = np.where(e["cp_kind"][small] >= 3, shop_key, 0)
        key = e["v"][small] * 100 + e["cp_kind"][small] * 10 + shop_key
        order = np.lexsort((e["date"][small], key))
        s = small[order]
        k = key[order]
        g_start = np.r_[True, k[1:] != k[:-1]]
        gid = np.cumsum(g_start) - 1
        first = np.flatnonzero(g_start)
        rank = np.arange(len(s)) - first[gid]
        base = e["date"][s] - 4 * rank
        cm = pd.Series(base).groupby(gid).cummax().to_numpy()
        newd = cm + 4 * rank
        e["date"][s] = newd
        over = newd > day(f"{YEAR}-12-31")
        approved[s[over]] = True
        e["approved"] = approved

    def invoices(self):
        """Invoices behind every expense (the expense's amount split over 1..k fapiao, summing exactly);
        expenses below 1,000 are sometimes backed by a receipt that is not a fapiao (no invoice)."""
        rng = self.rng
        amt = np.r_[self.led_exp["amount"], self.prj_exp["amount"]]
        n = len(amt)
        big = amt >= 100000
        lam = self.prof.invoice_lambda
        tg = self.prof.targets.get("invoices_n")
        if tg:
            lam = (tg * 0.998 - (~big).sum() * 0.7 * 1.3) / big.sum() - 1
        k = np.where(big, 1 + rng.poisson(lam, n), np.where(rng.random(n) < 0.3, 0, 1 + rng.poisson(0.3, n)))
        k = np.minimum(k, np.maximum(amt // 10000, 1))
        ent = np.repeat(np.arange(n), k)
        w = rng.uniform(0.3, 1.7, len(ent))
        wsum = np.bincount(ent, weights=w, minlength=n)
        share = np.floor(amt[ent] * w / wsum[ent]).astype(np.int64)
        rest = amt - np.bincount(ent, weights=share, minlength=n).astype(np.int64)
        first = np.r_[0, np.cumsum(k)[:-1]]
        has = k > 0
        share[first[has]] += rest[has]
        self.inv = dict(entry=ent, amount=share)           # entry indexes expenses: non-project first, then project
        dates_all = np.r_[self.led_exp["date"], self.prj_exp["date"]]
        v_all = np.r_[self.led_exp["v"], self.prj["v"][self.prj_exp["project"]]]
        self.inv_issue = np.maximum(dates_all[ent] - rng.integers(0, 6, len(ent)), day(f"{YEAR}-01-01"))
        self.inv_city4 = np.array([int(c[:4]) for c in self.cities])[self.v_city[v_all[ent]]]

    def inv_code(self, j) -> str:
        return f"0{self.inv_city4[j]}{YEAR % 100}{11 + j // 40000:05d}"

    def inv_no(self, j) -> str:
        return f"{j % 40000 + 1:08d}"

    # ------------------------------------------------------------------ complaints
    def complaints(self, planted: dict):
        rng, tg = self.rng, self.prof.targets
        n = (tg["received"] - planted["n"]) if tg.get("received") else max(
            int(round(self.prof.complaints_per_village * self.nv)), 20)
        v = rng.integers(0, self.nv, n)
        at_town = rng.random(n) < 0.2
        region = np.where(at_town, self.towns[self.v_town[v]], self.v_code[v])
        channel = np.array(["letter", "visit", "phone", "online", "wechat"], dtype=object)[
            rng.choice(5, n, p=[0.30, 0.28, 0.20, 0.14, 0.08])]
        category = np.array(["livelihood_funds", "poverty_alleviation", "village_finance", "work_style", "other"],
                            dtype=object)[rng.choice(5, n, p=[0.35, 0.2, 0.25, 0.12, 0.08])]
        received = np.sort(self.as_of - rng.integers(0, 365, n))
        n_unacc = (tg["received"] - tg["accepted"] - planted["unaccepted"]) if tg.get("received") else max(1, n // 25)
        n_unacc = max(0, n_unacc)
        received[n - n_unacc:] = self.as_of - rng.integers(0, 7, n_unacc)
        lag = rng.choice(np.arange(8), n, p=[0.10, 0.25, 0.22, 0.15, 0.10, 0.08, 0.06, 0.04])
        accepted = np.minimum(received + lag, self.as_of)
        accepted[n - n_unacc:] = NULL_DAY
        n_acc = n - n_unacc
        n_closed = (tg["closed"] - planted["closed"]) if tg.get("closed") else int(n_acc * 0.82)
        n_closed = min(n_closed, n_acc)
        ext = np.zeros(n, dtype=bool)
        order = np.argsort(accepted[:n_acc], kind="stable")
        closed = np.full(n, NULL_DAY, dtype=np.int64)
        cl = order[:n_closed]
        ext[cl] = rng.random(len(cl)) < 0.04
        deadline = np.where(ext[cl], add_months(accepted[cl], 4), add_months(accepted[cl], 3))
        limit = np.minimum(deadline, self.as_of)
        span = np.maximum(limit - accepted[cl], 1)
        closed[cl] = accepted[cl] + np.maximum(1, (span * rng.beta(2.0, 2.2, len(cl))).astype(np.int64))
        closed[cl] = np.minimum(closed[cl], limit)
        # the open ones: accepted recently enough that the deadline has not passed
        op = order[n_closed:]
        stale = op[add_months(accepted[op], 3) < self.as_of]
        if len(stale):
            accepted[stale] = self.as_of - rng.integers(0, 80, len(stale))
            received[stale] = accepted[stale] - lag[stale]
        n_sub = (tg["substantiated"] - planted["substantiated"]) if tg.get("substantiated") else int(n_closed * 0.39)
        sub = np.full(n, -1)
        sub[cl] = 0
        sub[rng.choice(cl, size=min(n_sub, len(cl)), replace=False)] = 1
        money_cat = np.isin(category, ["livelihood_funds", "poverty_alleviation", "village_finance"])
        involved = np.where(money_cat & (rng.random(n) < 0.85), lognormal(rng, 40000, 1.3, n), -1.0)
        if tg.get("involved_total"):
            pos = involved > 0
            involved[pos] *= (tg["involved_total"] - planted["involved"] / 100) / involved[pos].sum()
        involved = np.where(involved > 0, np.round(involved * 100), -1).astype(np.int64)
        fund = np.full(n, None, dtype=object)
        lv = (category == "livelihood_funds") & (rng.random(n) < 0.5)
        fund[lv] = self.f_code[self.item("dibao", v[lv])]
        summ = np.array([cat.COMPLAINT_SUMMARIES[c][rng.integers(0, len(cat.COMPLAINT_SUMMARIES[c]))] for c in category],
                        dtype=object)
        anon = rng.random(n) < 0.3
        names = np.array(self.person_names(n), dtype=object)
        names[anon] = None
        phone = np.array([f"1{p}" for p in rng.integers(3000000000, 9999999999, n)], dtype=object)
        phone[anon & (channel == "letter")] = None
        self.cmp = dict(region_code=region, channel=channel, category=category, received_date=received,
                        accepted_date=accepted, closed_date=closed, extension_approved=ext.astype(np.int64),
                        substantiated=sub, amount_involved=involved, fund_code=fund, project_code=np.full(n, None, object),
                        summary=summ, complainant_name=names, complainant_contact=phone)


def credit_codes(rng, county6: list, start: int) -> list[str]:
    """Unified social credit codes (GB 32100: 18 characters with a check character)."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    out = []
    for i, c6 in enumerate(county6):
        n = start + i
        body = "".join(chars[(n // 31 ** j + j * 7) % 31] for j in range(8))
        first17 = "91" + c6 + "MA4" + body[:6]
        s = sum(chars.index(ch) * w for ch, w in zip(first17, weights))
        out.append(first17 + chars[(31 - s % 31) % 31])
    return out
