"""Allocations (built bottom-up from what was actually spent) and the writing of the package."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.generator import catalog as cat
from pipeline.generator.build import AS_OF, LEVEL_DIGITS, YEAR
from pipeline.generator.columns import CHUNK, NULL_DAY, dates, day, money, take, write_csv
from pipeline.spec import TABLES, TRUTH_COLUMNS

LEVELS = ("province", "city", "county", "township", "village")
RELATIONS = np.array(["户主", "配偶", "子女", "父母", "其他"], dtype=object)


# ---------------------------------------------------------------------------------- allocations
def allocations(k, pl) -> None:
    """Every fund flows from its issuing region down to the townships (payment funds and most project
    funds) or straight to the villages (some project funds), each level receiving exactly what was paid
    or spent below it, so R11/R12 find nothing in the background; the planted R11/R12 cases (and their
    near-misses) add a precise surplus at one receiving region."""
    parts = [pd.DataFrame({"item": k.pay["f"], "v": k.pay["v"], "amt": k.pay["amt"]})]
    if pl.pays:
        parts.append(pd.DataFrame({"item": [p["item"] for p in pl.pays], "v": [p["v"] for p in pl.pays],
                                   "amt": [p["amount"] for p in pl.pays]}))
    e = k.prj_exp
    ok = e["date"] <= k.as_of
    parts.append(pd.DataFrame({"item": k.prj["item"][e["project"][ok]], "v": k.prj["v"][e["project"][ok]],
                               "amt": e["amount"][ok]}))
    prj_item = {p["project_code"]: (p["item"], p["v"]) for p in pl.projects}
    pe = [x for x in pl.entries if x["project_code"] and x["entry_date"] <= k.as_of]
    if pe:
        parts.append(pd.DataFrame({"item": [prj_item[x["project_code"]][0] for x in pe],
                                   "v": [prj_item[x["project_code"]][1] for x in pe], "amt": [x["amount"] for x in pe]}))
    sp = pd.concat(parts, ignore_index=True)
    sp["item"] = sp["item"].astype(np.int64)
    sp["v"] = sp["v"].astype(np.int64)
    tpl = np.array(k.f_tpl)[sp["item"].to_numpy()]
    terminal = np.array([t.terminal if t.mode == cat.PROJECT else "township" for t in k.templates], dtype=object)[tpl]
    sp["node"] = np.where(terminal == "village", k.v_code[sp["v"].to_numpy()], k.towns[k.v_town[sp["v"].to_numpy()]])
    node = sp.groupby(["item", "node"], sort=True)["amt"].sum()
    amounts = node.to_dict()
    # planted surpluses
    used = set()
    r11_nodes, r12_nodes = {}, {}
    for kind, key, v in pl.overrides:
        if kind.startswith("R11"):
            it = int(k.item(key, np.array([v]))[0])
            key2 = (it, k.v_code[v])
            s = amounts[key2]
            amounts[key2] = s * 5 // 2 if kind == "R11" else 2 * s
            r11_nodes[key2] = kind
        else:
            town = k.towns[k.v_town[v]]
            for fk in (key, "gengdi", "tekun"):
                it = int(k.item(fk, np.array([v]))[0])
                s = amounts.get((it, town), 0)
                if s > 0 and (it, town) not in used:
                    break
            else:
                continue
            used.add((it, town))
            amounts[(it, town)] = s + (-(-s // 9) if kind == "R12" else s // 49)
            rec = f"{k.f_code[it]}|{town}"
            (pl.truth if kind == "R12" else pl.near)("R12", "allocations", rec)
    rows = pd.DataFrame({"item": [a for a, _ in amounts], "node": [b for _, b in amounts], "amt": list(amounts.values())})
    issuer_level = k.fund["level"].to_numpy()
    issuer_code = k.fund["issuing_region_code"].to_numpy()
    out = []
    level_of_node = {12: "village", 9: "township", 6: "county", 4: "city"}

    def lvl(code: str) -> str:
        if code[9:] != "000":
            return "village"
        if code[6:] != "000000":
            return "township"
        if code[4:] != "00000000":
            return "county"
        return "city"
    del level_of_node
    cur = rows
    rng = k.rng
    base_day = {"city": day(f"{YEAR}-01-10"), "county": day(f"{YEAR}-01-25"), "township": day(f"{YEAR}-02-10"),
                "village": day(f"{YEAR}-03-01")}
    while len(cur):
        cur = cur.sort_values(["item", "node"]).reset_index(drop=True)
        nl = np.array([lvl(c) for c in cur["node"]], dtype=object)
        il = issuer_level[cur["item"].to_numpy()]
        # the parent: the county for villages and townships, the city for counties, the province for cities,
        # unless the issuer sits in between (then the issuer)
        parent_level = np.where(np.isin(nl, ["village", "township"]), "county", np.where(nl == "county", "city", "province"))
        li = {x: i for i, x in enumerate(LEVELS)}
        above = np.array([li[a] <= li[b] for a, b in zip(parent_level, il)])
        parent_level = np.where(above, il, parent_level)
        digits = np.array([LEVEL_DIGITS[x] for x in parent_level])
        parent = np.array([c[:d].ljust(12, "0") for c, d in zip(cur["node"], digits)], dtype=object)
        out.append(pd.DataFrame({"item": cur["item"], "from": parent, "to": cur["node"], "amt": cur["amt"], "lvl": nl}))
        up = ~(parent_level == il)
        nxt = pd.DataFrame({"item": cur["item"][up], "node": parent[up], "amt": cur["amt"][up]})
        cur = nxt.groupby(["item", "node"], sort=True)["amt"].sum().reset_index()
    al = pd.concat(out, ignore_index=True).sort_values(["item", "lvl", "to"], kind="stable").reset_index(drop=True)
    al = al[al["amt"] > 0].reset_index(drop=True)
    two = (al["lvl"] != "village").to_numpy() & (al["amt"].to_numpy() >= 2)
    first = np.where(two, al["amt"].to_numpy() * 60 // 100, al["amt"].to_numpy())
    d0 = np.array([base_day[x] for x in al["lvl"]]) + rng.integers(0, 20, len(al))
    a1 = pd.DataFrame({"item": al["item"], "from": al["from"], "to": al["to"], "amt": first, "date": d0})
    a2 = pd.DataFrame({"item": al["item"][two], "from": al["from"][two], "to": al["to"][two],
                       "amt": al["amt"].to_numpy()[two] - first[two], "date": d0[two] + 150})
    alloc = pd.concat([a1, a2], ignore_index=True).sort_values(["item", "date", "to"], kind="stable").reset_index(drop=True)
    alloc["id"] = [f"A{YEAR}{i + 1:08d}" for i in range(len(alloc))]
    for (it, node), kind in r11_nodes.items():
        rid = alloc.loc[(alloc["item"] == it) & (alloc["to"] == node), "id"].tolist()
        for r in rid:
            (pl.truth if kind == "R11" else pl.near)("R11", "allocations", r)
    k.alloc = alloc
    top = alloc[alloc["from"].to_numpy() == issuer_code[alloc["item"].to_numpy()]]
    total = np.zeros(len(k.f_code), dtype=np.int64)
    np.add.at(total, top["item"].to_numpy(), top["amt"].to_numpy())
    k.f_total = total


# ---------------------------------------------------------------------------------- writing helpers
def _conv(typ: str, values) -> pa.Array:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if typ == "amount":
        v = np.asarray(values, dtype=np.int64)
        arr = money(np.maximum(v, 0))
        return pc.if_else(pa.array(v < 0), pa.scalar(None, pa.string()), arr) if (v < 0).any() else arr
    if typ == "date":
        return dates(values)
    if typ in ("int", "bool"):
        v = np.asarray(values, dtype=np.int64)
        return pa.array(v, mask=v < 0)
    if typ == "number":
        v = np.asarray(values, dtype=float)
        return pc.cast(pa.array(np.round(v, 2), mask=np.isnan(v)), pa.string())
    return pa.array(np.asarray(values, dtype=object), type=pa.string())


def _frame_chunks(name: str, cols: dict, rows: list[dict] | None = None) -> list[dict]:
    """A table as a list of column dicts (background arrays, then the planted rows)."""
    chunks = [cols] if cols else []
    if rows:
        spec = TABLES[name]
        planted = {}
        for c in spec.column_names:
            vals = [r.get(c) for r in rows]
            t = spec.col(c).type
            if t == "amount":
                vals = [-1 if x is None else x for x in vals]
            elif t == "date":
                vals = [NULL_DAY if x is None else x for x in vals]
            elif t in ("int", "bool"):
                vals = [-1 if x is None else x for x in vals]
            elif t == "number":
                vals = [np.nan if x is None else x for x in vals]
            planted[c] = vals
        chunks.append(planted)
    return chunks


def _chunk_len(ch: dict) -> int:
    if "__n__" in ch:
        return int(ch["__n__"])
    for v in ch.values():
        if not callable(v):
            return len(v)
    return 0


def _write_table(out: Path, name: str, chunks: list[dict]) -> int:
    spec = TABLES[name]
    names = list(spec.column_names)
    lens = [_chunk_len(ch) for ch in chunks]
    offsets = np.r_[0, np.cumsum(lens)].astype(np.int64)

    def make(a, b):
        arrays = []
        for c in names:
            parts = []
            for i, ch in enumerate(chunks):
                lo, hi = max(a, offsets[i]), min(b, offsets[i + 1])
                if hi <= lo:
                    continue
                v = ch[c]
                s, e = lo - offsets[i], hi - offsets[i]
                if callable(v):
                    arr = v(s, e)
                elif isinstance(v, (pa.Array, pa.ChunkedArray)):
                    arr = v.slice(s, e - s)
                else:
                    arr = _conv(spec.col(c).type, v[s:e])
                arr = _conv(spec.col(c).type, arr) if not isinstance(arr, (pa.Array, pa.ChunkedArray)) else arr
                typ = pa.date32() if spec.col(c).type == "date" else (
                    pa.int64() if spec.col(c).type in ("int", "bool") else pa.string())
                if isinstance(arr, pa.ChunkedArray):
                    arr = arr.combine_chunks()
                parts.append(arr.cast(typ) if arr.type != typ else arr)
            arrays.append(pa.concat_arrays(parts) if parts else pa.array([], type=pa.string()))
        return arrays
    total = int(offsets[-1])
    write_csv(out / f"{name}.csv", names, total, make)
    return total


def _seq_ids(prefix: str, start: int, n: int, width: int) -> pa.Array:
    nums = pc.utf8_lpad(pc.cast(pa.array(np.arange(start, start + n)), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), nums, "")


# ---------------------------------------------------------------------------------- the package
def write_package(k, pl, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    # remap planted keys to the background's numbering, so that nothing in an id tells a planted record
    n_inc, n_exp, n_pe = len(k.led_inc["v"]), len(k.led_exp["v"]), len(k.prj_exp["project"])
    n_led = n_inc + n_exp + n_pe
    remap = {}
    for i, e in enumerate(pl.entries):
        remap[e["entry_id"]] = f"L{n_led + i + 1:09d}"
    n_inv = len(k.inv["entry"])
    for i, e in enumerate(pl.invoices):
        remap[e["invoice_id"]] = f"I{n_inv + i + 1:010d}"
    for i, e in enumerate(pl.projects):
        remap[e["project_code"]] = f"XM{YEAR}{k.nprj + i + 1:06d}"
    n_cmp = len(k.cmp["region_code"])
    for i, e in enumerate(pl.complaints):
        remap[e["complaint_id"]] = f"Q{YEAR}{n_cmp + i + 1:06d}"
    fix = lambda x: remap.get(x, x)  # noqa: E731
    k.truth = [(r, t, fix(x)) for r, t, x in k.truth]
    k.near = [(r, t, fix(x)) for r, t, x in k.near]

    # manifest
    man = pd.DataFrame({"key": ["as_of_date", "source", "description", "synthetic"],
                        "value": [AS_OF, f"synthetic generator pipeline.generator (scale={k.scale}, seed={k.seed})",
                                  f"合成数据（非真实数据）: {k.scale} scale, fund year {YEAR}", "1"]})
    man.to_csv(out / "manifest.csv", index=False, encoding="utf-8", lineterminator="\n")
    # regions: the divisions the package covers (households and population of the villages' samples)
    hh_n = np.bincount(k.hh_v, minlength=k.nv)
    pop_n = np.bincount(k.p_v, minlength=k.nv)
    d = k.div.set_index("code")
    codes = np.r_[["430000000000"], k.cities, k.counties, k.towns, k.v_code]
    lv = np.r_[["province"], ["city"] * len(k.cities), ["county"] * len(k.counties), ["township"] * len(k.towns),
               ["village"] * k.nv]
    counts["regions"] = _write_table(out, "regions", [dict(
        code=codes.astype(object), name=d.loc[codes, "name"].to_numpy(), level=lv.astype(object),
        parent_code=d.loc[codes, "parent_code"].replace("", None).to_numpy(),
        households=np.r_[np.full(len(codes) - k.nv, -1), hh_n], population=np.r_[np.full(len(codes) - k.nv, -1), pop_n])])
    # funds
    f = k.fund
    counts["funds"] = _write_table(out, "funds", [dict(
        fund_code=k.f_code, name=f["name"].to_numpy(), category=f["category"].to_numpy(), year=np.full(len(f), YEAR),
        issuing_region_code=f["issuing_region_code"].to_numpy(), total_amount=k.f_total,
        standard_amount=np.array([-1 if x is None or pd.isna(x) else int(x) for x in k.f_std]),
        payment_unit=f["payment_unit"].to_numpy())])
    a = k.alloc
    counts["allocations"] = _write_table(out, "allocations", [dict(
        allocation_id=a["id"].to_numpy(), fund_code=k.f_code[a["item"].to_numpy()], from_region_code=a["from"].to_numpy(),
        to_region_code=a["to"].to_numpy(), amount=a["amt"].to_numpy(), allocated_date=a["date"].to_numpy())])
    # projects
    p = k.prj
    ent_names, ent_codes = k.ent_field("name"), k.ent_field("credit_code")
    prj_codes = np.array([f"XM{YEAR}{i + 1:06d}" for i in range(k.nprj)], dtype=object)
    counts["projects"] = _write_table(out, "projects", _frame_chunks("projects", dict(
        project_code=prj_codes, fund_code=k.f_code[p["item"]], region_code=k.v_code[p["v"]], name=p["name"],
        contractor_name=ent_names[p["contractor"]], contractor_credit_code=ent_codes[p["contractor"]],
        contract_amount=p["contract"], planned_quantity=p["planned"], completed_quantity=p["done"], unit=p["unit"],
        start_date=p["start"], end_date=p["end"], acceptance_date=p["acc"]), [dict(
            project_code=fix(x["project_code"]), fund_code=k.f_code[x["item"]], region_code=k.v_code[x["v"]],
            name=x["name"], contractor_name=x["contractor_name"], contractor_credit_code=x["contractor_credit_code"],
            contract_amount=x["contract"], planned_quantity=x["planned"], completed_quantity=x["done"], unit=x["unit"],
            start_date=x["start"], end_date=x["end"], acceptance_date=None if x["acc"] == NULL_DAY else x["acc"])
            for x in pl.projects]))
    # people
    hh_no = pc.binary_join_element_wise(
        pa.array(np.array([c[-6:] for c in k.v_code], dtype=object)).take(pa.array(k.p_v)),
        pc.utf8_lpad(pc.cast(pa.array(k.hh_no[k.p_hh]), pa.string()), width=4, padding="0"), "")
    counts["people"] = _write_table(out, "people", [dict(
        id_number=k.p_id, name=k.p_name, village_code=lambda s, e: take(k.v_code, k.p_v[s:e]), household_no=hh_no,
        relation_to_head=lambda s, e: take(RELATIONS, k.p_rel[s:e]), poverty_registered=k.p_poor.astype(np.int64))])
    # payments
    P = k.pay
    periods = np.array([f"{YEAR}-{m:02d}" for m in range(1, 13)], dtype=object)
    pays = [dict(
        payment_id=lambda s, e: _seq_ids("P", s + 1, e - s, 9), fund_code=lambda s, e: take(k.f_code, P["f"][s:e]),
        project_code=lambda s, e: pa.nulls(e - s, pa.string()), id_number=lambda s, e: k.p_id.take(pa.array(P["p"][s:e])),
        name=lambda s, e: k.p_name.take(pa.array(P["p"][s:e])), village_code=lambda s, e: take(k.v_code, P["v"][s:e]),
        amount=P["amt"], paid_date=P["paid"], period=lambda s, e: take(periods, P["m"][s:e] - 1), __n__=k.npay)]
    pays += _frame_chunks("payments", {}, [dict(
        payment_id=x["payment_id"], fund_code=k.f_code[x["item"]], project_code=None, id_number=x["id_number"],
        name=x["name"], village_code=k.v_code[x["v"]], amount=x["amount"], paid_date=x["paid"],
        period=f"{YEAR}-{x['month']:02d}") for x in pl.pays])
    counts["payments"] = _write_table(out, "payments", pays)
    # ledger
    counts["ledger"] = _write_table(out, "ledger", _ledger_chunks(k, pl, fix))
    counts["invoices"] = _write_table(out, "invoices", _invoice_chunks(k, pl, fix))
    # complaints
    c = k.cmp
    counts["complaints"] = _write_table(out, "complaints", _frame_chunks("complaints", dict(
        complaint_id=np.array([f"Q{YEAR}{i + 1:06d}" for i in range(n_cmp)], dtype=object), **c),
        [dict(x, complaint_id=fix(x["complaint_id"]), accepted_date=None if x["accepted_date"] == NULL_DAY else x["accepted_date"],
              closed_date=None if x["closed_date"] == NULL_DAY else x["closed_date"],
              substantiated=None if x["substantiated"] < 0 else x["substantiated"]) for x in pl.complaints]))
    # registers
    for name in ("officials", "village_cadres", "real_estate", "vehicles", "deaths", "disabled_persons"):
        bg = k.reg[name][0]
        counts[name] = _write_table(out, name, _frame_chunks(name, bg, pl.regs.get(name)))
    ent = {c: k.ent_field(c) for c in TABLES["enterprises"].column_names}
    counts["enterprises"] = _write_table(out, "enterprises", _frame_chunks("enterprises", ent, pl.ents))
    # truth
    pd.DataFrame(k.truth, columns=list(TRUTH_COLUMNS)).to_csv(out / "truth.csv", index=False, lineterminator="\n")
    counts["truth"] = len(k.truth)
    return counts


def _ledger_chunks(k, pl, fix) -> list[dict]:
    inc, exp, pe = k.led_inc, k.led_exp, k.prj_exp
    n_inc, n_exp, n_pe = len(inc["v"]), len(exp["v"]), len(pe["project"])
    rng = k.rng
    town_name = np.array([k.name_of[t] for t in k.towns], dtype=object)
    city_name = np.array([k.name_of[c] for c in k.cities], dtype=object)
    county_name = np.array([k.name_of[c] for c in k.counties], dtype=object)
    icat = np.array([c[0] for c in cat.INCOME_CATEGORIES], dtype=object)[inc["cat"]]
    p_first = np.r_[0, np.cumsum(np.bincount(k.p_v, minlength=k.nv))[:-1]]
    p_cnt = np.bincount(k.p_v, minlength=k.nv)
    villager = p_first[inc["v"]] + (rng.random(n_inc) * p_cnt[inc["v"]]).astype(np.int64)
    firm = np.array(cat.FIRM_WORDS, dtype=object)
    comp = np.array(cat.COMPANY_WORDS, dtype=object)
    shop_w = np.array(cat.SHOP_WORDS, dtype=object)
    vshort = np.array([n[:2] for n in k.v_name], dtype=object)
    vi = inc["v"]
    inc_cp = np.select(
        [icat == "上级补助收入", icat == "集体经营收入", icat == "发包及上交收入", icat == "投资收益", icat == "一事一议筹资筹劳收入"],
        [town_name[k.v_town[vi]] + "财政所", vshort[vi] + firm[vi % 18] + "农业开发有限公司",
         np.array(k.p_name.take(pa.array(villager)).to_pylist(), dtype=object), k.v_name[vi] + "股份经济合作社",
         k.v_name[vi] + "村民筹资"], k.v_name[vi] + "零星收入")
    inc_cpid = np.where(icat == "发包及上交收入", np.array(k.p_id.take(pa.array(villager)).to_pylist(), dtype=object), None)
    ve, kind, shop = exp["v"], exp["cp_kind"], exp["shop"]
    cad = exp["cadre_person"]
    cad_name = np.array(k.p_name.take(pa.array(np.maximum(cad, 0))).to_pylist(), dtype=object)
    cad_id = np.array(k.p_id.take(pa.array(np.maximum(cad, 0))).to_pylist(), dtype=object)
    firm_name = vshort[ve] + firm[(ve * 7 + shop) % 18] + firm[(ve * 3 + shop * 5 + 1) % 18]
    exp_cp = np.select([kind == 0, kind == 1, kind == 2, kind == 3],
                       [cad_name, city_name[k.v_city[ve]] + "日报社",
                        "国网湖南省电力有限公司" + county_name[k.v_county[ve]] + "供电分公司",
                        firm_name + comp[shop % len(comp)]], firm_name + shop_w[shop % len(shop_w)])
    exp_cpid = np.where(kind == 0, cad_id, None)
    ecat = np.array([c[0] for c in cat.EXPENSE_CATEGORIES], dtype=object)[exp["cat"]]
    prj = k.prj
    ent_names, ent_codes = k.ent_field("name"), k.ent_field("credit_code")
    pp = pe["project"]
    k.entry_cp = np.r_[exp_cp, ent_names[prj["contractor"][pp]]]
    k.entry_cpid = np.r_[np.full(n_exp, None, dtype=object), ent_codes[prj["contractor"][pp]]]
    n = n_inc + n_exp + n_pe
    date = np.r_[inc["date"], exp["date"], pe["date"]]
    booked = date + rng.integers(0, 21, n)
    bg = dict(
        entry_id=lambda s, e: _seq_ids("L", s + 1, e - s, 9), village_code=k.v_code[np.r_[inc["v"], ve, prj["v"][pp]]],
        entry_date=date, booked_date=booked,
        direction=np.r_[np.full(n_inc, "income"), np.full(n_exp + n_pe, "expense")].astype(object),
        category=np.r_[icat, ecat, np.full(n_pe, "工程支出", dtype=object)],
        amount=np.r_[inc["amount"], exp["amount"], pe["amount"]],
        counterparty_name=np.r_[inc_cp, exp_cp, ent_names[prj["contractor"][pp]]],
        counterparty_id=np.r_[inc_cpid, exp_cpid, ent_codes[prj["contractor"][pp]]],
        voucher_no=np.array([f"记-{(i % 9999) + 1:04d}" for i in range(n)], dtype=object),
        collective_approval=np.r_[np.full(n_inc, -1), exp["approved"].astype(np.int64), np.ones(n_pe, dtype=np.int64)],
        project_code=np.r_[np.full(n_inc + n_exp, None, dtype=object),
                           np.array([f"XM{YEAR}{i + 1:06d}" for i in pp], dtype=object)],
        __n__=n)
    rows = [dict(entry_id=fix(x["entry_id"]), village_code=k.v_code[x["v"]], entry_date=x["entry_date"],
                 booked_date=x["booked_date"], direction=x["direction"], category=x["category"], amount=x["amount"],
                 counterparty_name=x["counterparty_name"], counterparty_id=x["counterparty_id"],
                 voucher_no=x["voucher_no"], collective_approval=x["collective_approval"],
                 project_code=fix(x["project_code"]) if x["project_code"] else None) for x in pl.entries]
    return [bg] + _frame_chunks("ledger", {}, rows)


def _invoice_chunks(k, pl, fix) -> list[dict]:
    inv = k.inv
    n = len(inv["entry"])
    n_inc = len(k.led_inc["v"])
    j = np.arange(n)
    codes = pc.binary_join_element_wise(
        pa.scalar("0"), pc.cast(pa.array(k.inv_city4), pa.string()), pa.scalar(f"{YEAR % 100}"),
        pc.utf8_lpad(pc.cast(pa.array(11 + j // 40000), pa.string()), width=5, padding="0"), "")
    nos = pc.utf8_lpad(pc.cast(pa.array(j % 40000 + 1), pa.string()), width=8, padding="0")
    bg = dict(
        invoice_id=lambda s, e: _seq_ids("I", s + 1, e - s, 10),
        entry_id=lambda s, e: _seq_ids("L", 0, 0, 9) if e == s else pc.binary_join_element_wise(
            pa.scalar("L"), pc.utf8_lpad(pc.cast(pa.array(inv["entry"][s:e] + n_inc + 1), pa.string()), width=9,
                                         padding="0"), ""),
        invoice_code=codes, invoice_no=nos, issuer_name=lambda s, e: take(k.entry_cp, inv["entry"][s:e]),
        issuer_credit_code=lambda s, e: take(k.entry_cpid, inv["entry"][s:e]) if False else pa.array(
            k.entry_cpid[inv["entry"][s:e]], type=pa.string()),
        amount=inv["amount"], issue_date=k.inv_issue, __n__=n)
    rows = [dict(invoice_id=fix(x["invoice_id"]), entry_id=fix(x["entry_id"]), invoice_code=x["invoice_code"],
                 invoice_no=x["invoice_no"], issuer_name=x["issuer_name"], issuer_credit_code=None, amount=x["amount"],
                 issue_date=x["issue_date"]) for x in pl.invoices]
    return [bg] + _frame_chunks("invoices", {}, rows)


__all__ = ["allocations", "write_package", "CHUNK"]
