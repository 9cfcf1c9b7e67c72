"""Planted cases: for every record rule a few records that must fire (listed in truth.csv) and, beside
them, the near-misses of clue-rules.md that must not (returned in the summary, never in truth.csv).

Each case uses its own village's reserved households (people who got no background payment and no
register row), so a planted record triggers its rule and nothing else. truth.csv is written from what
is planted here, never by running the rules."""
from __future__ import annotations

import numpy as np

from core.idnumber import check_digit
from pipeline.generator.columns import NULL_DAY, add_months, day, iso, month_start
from pipeline.generator.build import YEAR


class Planter:
    def __init__(self, pkg):
        self.k = pkg
        rng = pkg.rng
        ok = (pkg.reserve_hh_of_v >= 0) & (pkg.reserve_cadre_hh_of_v >= 0)
        self.villages = [int(v) for v in rng.permutation(np.flatnonzero(ok))]
        self.vi = 0
        self.pays: list[dict] = []
        self.projects: list[dict] = []
        self.entries: list[dict] = []
        self.invoices: list[dict] = []
        self.complaints: list[dict] = []
        self.regs: dict[str, list[dict]] = {}
        self.ents: list[dict] = []
        self.overrides: list[tuple] = []          # (kind, template key, village)
        self.next_pay = pkg.npay + 1
        self.next_prj = pkg.nprj + 1
        self.next_inv_code = 90000
        P = pkg.prof.periods
        self.qm = [1 + j * (12 // P) for j in range(P)]

    # -- helpers -----------------------------------------------------------------------------------
    def fresh(self):
        if self.vi >= len(self.villages):
            raise RuntimeError("not enough villages for the planted cases")
        v = self.villages[self.vi]
        self.vi += 1
        hh = self.k.reserve_hh_of_v[v]
        first, size = self.k.hh_first[hh], self.k.hh_size[hh]
        members = sorted(range(int(first), int(first + size)), key=lambda p: (self.k.p_age[p] < 18, p))
        if sum(self.k.p_age[p] >= 18 for p in members) < 2:
            return self.fresh()                  # the cases need two adults
        return v, members

    def truth(self, rule, table, rid):
        self.k.truth.append((rule, table, rid))

    def near(self, rule, table, rid):
        self.k.near.append((rule, table, rid))

    def pid(self, p) -> str:
        return self.k.p_id[int(p)].as_py()

    def pname(self, p) -> str:
        return self.k.p_name[int(p)].as_py()

    def pay(self, p, key, month, amount=None, paid=None, v=None, id_number=None, name=None) -> str:
        k = self.k
        v = int(k.p_v[p]) if v is None else v
        item = int(k.item(key, np.array([v]))[0])
        std = k.f_std[item]
        amount = int(std) if amount is None else int(amount)
        ps = int(month_start(YEAR, [month])[0])
        paid = ps + 14 if paid is None else paid
        rid = f"P{self.next_pay:09d}"
        self.next_pay += 1
        self.pays.append(dict(payment_id=rid, item=item, v=v, id_number=id_number or self.pid(p),
                              name=name if name is not None else self.pname(p), amount=amount, paid=paid, month=month))
        return rid

    def std(self, key, v) -> int:
        return int(self.k.f_std[int(self.k.item(key, np.array([v]))[0])])

    def reg(self, table, **row):
        self.regs.setdefault(table, []).append(row)

    def enterprise(self, legal_id, status, registered, v, name=None):
        k = self.k
        from pipeline.generator.build import credit_codes
        code = credit_codes(k.rng, [k.v_code[v][:6]], 5_000_000 + len(self.ents))[0]
        self.ents.append(dict(credit_code=code, name=name or f"{k.v_name[v][:2]}{['鑫','旺','隆','福'][len(self.ents) % 4]}"
                              f"{len(self.ents)}商贸有限公司", industry="批发和零售业", legal_person_id=legal_id,
                              registered_date=registered, status=status))
        return code

    def entry(self, v, date, amount, direction="expense", category="办公费", cp=None, approved=0, booked=None,
              project=None, invoices=None) -> str:
        """A ledger entry with its invoices (``invoices``: list of amounts; None = one for the full amount)."""
        rid = f"LP{len(self.entries) + 1:07d}"
        cp = cp or f"{self.k.v_name[v]}{['聚源','惠民','兴旺','康达'][len(self.entries) % 4]}{len(self.entries)}号商行"
        self.entries.append(dict(entry_id=rid, v=v, entry_date=date, booked_date=date + 2 if booked is None else booked,
                                 direction=direction, category=category, amount=amount, counterparty_name=cp,
                                 counterparty_id=None, voucher_no=f"记-P{len(self.entries) + 1:04d}",
                                 collective_approval=None if direction == "income" else approved, project_code=project))
        if direction == "expense":
            for a in ([amount] if invoices is None else invoices):
                self.invoice(rid, a, date, cp)
        return rid

    def invoice(self, entry_id, amount, date, issuer, code=None, no=None) -> str:
        rid = f"IP{len(self.invoices) + 1:07d}"
        if code is None:
            code = f"04399{self.next_inv_code:07d}"
            self.next_inv_code += 1
        self.invoices.append(dict(invoice_id=rid, entry_id=entry_id, invoice_code=code,
                                  invoice_no=no or f"{len(self.invoices) + 1:08d}", issuer_name=issuer, amount=amount,
                                  issue_date=date))
        return rid

    def project(self, v, key, contract, planned, done, start, acc, payments, contractor=None, unit="公里",
                name="组级道路硬化工程") -> str:
        """A planted project and its expenses: ``payments`` = [(day, fen)]."""
        k = self.k
        code = f"XM{YEAR}P{self.next_prj:06d}"
        self.next_prj += 1
        item = int(k.item(key, np.array([v]))[0])
        if contractor is None:
            e = int(k.contractors[k.v_county[v], 0])
            if not hasattr(self, "_ent"):
                self._ent = (k.ent_field("name"), k.ent_field("credit_code"))
            contractor = (self._ent[0][e], self._ent[1][e])
        self.projects.append(dict(project_code=code, item=item, v=v, name=f"{k.v_name[v]}{name}",
                                  contractor_name=contractor[0], contractor_credit_code=contractor[1], contract=contract,
                                  planned=planned, done=done, unit=unit, start=start, end=start + 120, acc=acc))
        for d, amt in payments:
            self.entry(v, d, amt, category="工程支出", cp=contractor[0], approved=1, project=code)
            self.entries[-1]["counterparty_id"] = contractor[1]
        return code

    # -- the cases ---------------------------------------------------------------------------------
    def run(self):
        n = self.k.prof.plants_per_rule
        for f in (self.r01, self.r02, self.r03, self.r04, self.r05, self.r06, self.r07, self.r08, self.r09,
                  self.r10, self.r24, self.r11_r12, self.r13, self.r14, self.r15, self.r16, self.r17, self.r18,
                  self.r19, self.r20, self.r22_r23):
            f(n)

    def r01(self, n):
        qm = self.qm
        for i in range(n):
            v, m = self.fresh()
            p = m[0]
            death = int(month_start(YEAR, [qm[1]])[0]) + 10
            for j, mo in enumerate(qm):
                rid = self.pay(p, "tekun", mo)
                if j >= 2:
                    self.truth("R01", "payments", rid)
                elif j == 1:
                    self.near("R01", "payments", rid)          # died inside the period month
            self.reg("deaths", id_number=self.pid(p), date_of_death=death)
            q = m[1]                                          # died after the period: no clue
            self.near("R01", "payments", self.pay(q, "tekun", qm[0]))
            self.reg("deaths", id_number=self.pid(q), date_of_death=day(f"{YEAR + 1}-03-05"))

    def r02(self, n):
        k = self.k
        for i in range(n):
            v, m = self.fresh()
            p = m[0]
            good = self.pid(p)
            c6 = good[:6]
            kind = i % 3
            if kind == 0:                                     # wrong check digit
                wrong = "10X98765432"[("10X98765432".index(good[17]) + 3) % 11]
                idn = good[:17] + wrong
                name = self.pname(p)
            elif kind == 1:                                   # 30 February
                first = f"{c6}19850230{(i * 7) % 500:03d}"
                idn, name = first + check_digit(first), k.person_names(1)[0]
            else:                                             # born after the payment
                first = f"{c6}{YEAR}1120{(i * 7) % 500 + 1:03d}"
                idn, name = first + check_digit(first), k.person_names(1)[0]
            if kind == 0:
                rid = self.pay(p, "gengdi", 5, amount=80000 + i * 100, id_number=idn)
            else:
                rid = self.pay(None, "gengdi", 5, amount=80000 + i * 100, v=v, id_number=idn, name=name)
            self.truth("R02", "payments", rid)
        # a valid number ending in X: no clue
        found = 0
        while found < max(1, n // 2):
            v, m = self.fresh()
            for p in m:
                if self.pid(p).endswith("X"):
                    self.near("R02", "payments", self.pay(p, "gengdi", 5, amount=76000))
                    found += 1
                    break

    def r03(self, n):
        for i in range(n):
            v, m = self.fresh()
            p = m[0]
            mo = self.qm[i % len(self.qm)]
            paid = int(month_start(YEAR, [mo])[0]) + 14
            end = paid if i % 3 == 2 else NULL_DAY          # serving up to and including the paid date
            self.reg("officials", id_number=self.pid(p), name=self.pname(p), employer=f"{self.k.v_name[v]}所在乡镇人民政府",
                     position="科员", region_code=self.k.v_code[v][:9] + "000", start_date=day("2012-03-01"), end_date=end)
            self.truth("R03", "payments", self.pay(p, "tekun", mo, paid=paid))
            q = m[1]                                          # service ended before the payment
            self.reg("officials", id_number=self.pid(q), name=self.pname(q), employer="乡镇中心学校", position="教师",
                     region_code=self.k.v_code[v][:9] + "000", start_date=day("1990-09-01"), end_date=day("2022-06-30"))
            self.near("R03", "payments", self.pay(q, "tekun", mo))

    def _plate(self, i):
        return f"湘D{'ABCDEFGH'[i % 8]}{7301 + i:04d}"

    def r04(self, n):
        for i in range(n):
            v, m = self.fresh()
            p = m[0]
            paid = int(month_start(YEAR, [self.qm[0]])[0]) + 14
            typ, reg = ("car", day("2019-05-01")) if i % 2 == 0 else ("truck", paid)     # on the paid date counts
            self.reg("vehicles", owner_id=self.pid(p), plate=self._plate(i), vehicle_type=typ, registered_date=reg)
            self.truth("R04", "payments", self.pay(p, "tekun", self.qm[0], paid=paid))
            q = m[1]
            typ2 = ["motorcycle", "agricultural", "car"][i % 3]
            reg2 = paid + 1 if typ2 == "car" else day("2018-04-01")                      # a car bought the day after
            self.reg("vehicles", owner_id=self.pid(q), plate=self._plate(100 + i), vehicle_type=typ2, registered_date=reg2)
            self.near("R04", "payments", self.pay(q, "tekun", self.qm[0], paid=paid))

    def r05(self, n):
        for i in range(n):
            v, m = self.fresh()
            p, q = m[0], m[1]
            self.reg("real_estate", owner_id=self.pid(p), property_type=["commercial_housing", "shop", "office"][i % 3],
                     area_m2=96.5, region_code=self.k.v_code[v][:6] + "000000", registered_date=day("2020-08-18"))
            self.truth("R05", "payments", self.pay(p, "tekun", self.qm[0]))
            self.reg("real_estate", owner_id=self.pid(q), property_type="rural_homestead", area_m2=160.0,
                     region_code=self.k.v_code[v], registered_date=day("2008-03-02"))
            self.near("R05", "payments", self.pay(q, "tekun", self.qm[0]))

    def r06(self, n):
        for i in range(n):
            v, m = self.fresh()
            p, q = m[0], m[1]
            self.enterprise(self.pid(p), "active", day("2016-06-01"), v)
            self.truth("R06", "payments", self.pay(p, "tekun", self.qm[0]))
            self.enterprise(self.pid(q), ["revoked", "cancelled"][i % 2], day("2012-06-01"), v)
            self.near("R06", "payments", self.pay(q, "tekun", self.qm[0]))

    def r07(self, n):
        k = self.k
        for i in range(n):
            v, _ = self.fresh()
            hh = k.reserve_cadre_hh_of_v[v]
            members = list(range(int(k.hh_first[hh]), int(k.hh_first[hh] + k.hh_size[hh])))
            p = members[0] if i % 2 else members[1]              # the cadre, or a member of the household
            self.truth("R07", "payments", self.pay(p, "tekun", self.qm[-1]))
        for i in range(max(1, n // 2)):
            v, m = self.fresh()                                  # a cadre of another village
            other = self.villages[(self.vi + 7) % len(self.villages)]
            self.reg("village_cadres", id_number=self.pid(m[0]), name=self.pname(m[0]), village_code=k.v_code[other],
                     role="村委会委员", start_date=day("2021-01-20"), end_date=NULL_DAY)
            self.near("R07", "payments", self.pay(m[1], "tekun", self.qm[0]))
            v, m = self.fresh()                                  # a cadre whose term ended
            self.reg("village_cadres", id_number=self.pid(m[0]), name=self.pname(m[0]), village_code=k.v_code[v],
                     role="村会计", start_date=day("2017-12-25"), end_date=day("2020-12-31"))
            self.near("R07", "payments", self.pay(m[1], "tekun", self.qm[0]))

    def r08(self, n):
        for i in range(n):
            v, m = self.fresh()
            p = m[0]
            mo = self.qm[i % len(self.qm)]
            ps = int(month_start(YEAR, [mo])[0])
            self.pay(p, "tekun", mo, paid=ps + 10)
            self.truth("R08", "payments", self.pay(p, "tekun", mo, paid=ps + 24))
            nxt = self.qm[(i + 1) % len(self.qm)]
            self.near("R08", "payments", self.pay(p, "tekun", nxt))          # another period

    def r09(self, n):
        for i in range(n):
            v, m = self.fresh()
            w = self.villages[-1 - i]
            if w == v:
                w = self.villages[-2 - i]
            self.truth("R09", "payments", self.pay(m[0], "gengdi", 5, amount=91000 + i * 100, v=w))

    def r10(self, n):
        for i in range(n):
            v, m = self.fresh()
            s = self.std("tekun", v)
            self.truth("R10", "payments", self.pay(m[0], "tekun", self.qm[0], amount=s * [90, 110, 80][i % 3] // 100))
            self.near("R10", "payments", self.pay(m[1], "tekun", self.qm[0], amount=s * [99, 101][i % 2] // 100))

    def r24(self, n):
        for i in range(n):
            v, m = self.fresh()
            rid = self.pay(m[0], "canbu", self.qm[0])
            self.truth("R24", "payments", rid)
            if i % 2:                                            # certified only after the payment
                self.reg("disabled_persons", id_number=self.pid(m[0]), disability_level=3, certified_date=day(f"{YEAR}-09-01"))
            paid = int(month_start(YEAR, [self.qm[0]])[0]) + 14
            self.reg("disabled_persons", id_number=self.pid(m[1]), disability_level=2, certified_date=paid)
            self.near("R24", "payments", self.pay(m[1], "canbu", self.qm[0], paid=paid))

    def r11_r12(self, n):
        for i in range(n):
            v, _ = self.fresh()
            start = day(f"{YEAR}-03-01") + i
            c = 30000000 + i * 1000000
            self.project(v, "yishiyiyi", c, 2, 2, start, start + 110,
                         [(start + 5, c * 30 // 100), (start + 60, c * 40 // 100), (start + 115, c * 27 // 100)],
                         unit="处", name="村部文化广场建设项目")
            self.overrides.append(("R11", "yishiyiyi", v))
            v, _ = self.fresh()
            self.project(v, "yinshui_wh", c, 10, 10, start, start + 100,
                         [(start + 5, c * 30 // 100), (start + 50, c * 40 // 100), (start + 105, c * 27 // 100)],
                         unit="口", name="安全饮水工程")
            self.overrides.append(("R11near", "yinshui_wh", v))
        for i in range(n):
            v, _ = self.fresh()
            self.overrides.append(("R12", "dibao", v))
            v, _ = self.fresh()
            self.overrides.append(("R12near", "dibao", v))

    def r13(self, n):
        for i in range(n):
            v, _ = self.fresh()
            c = 50000000 + i * 1000000
            s = day(f"{YEAR}-09-01") + i
            self.truth("R13", "projects", self.project(v, "daolu", c, 10, 5, s, NULL_DAY,
                                                       [(s + 5, c * 30 // 100), (s + 40, c * 40 // 100)]))
            v, _ = self.fresh()
            self.near("R13", "projects", self.project(v, "daolu", c, 10, 6, s, NULL_DAY,
                                                      [(s + 5, c * 30 // 100), (s + 40, c * 30 // 100)]))

    def r14(self, n):
        for i in range(n):
            v, _ = self.fresh()
            c = 40000000 + i * 1000000
            s = day(f"{YEAR}-05-01") + i
            if i % 2 == 0:                                       # finished, never accepted, 95% paid
                code = self.project(v, "daolu", c, 8, 8, s, NULL_DAY, [(s + 5, c * 30 // 100), (s + 90, c * 65 // 100)])
            else:                                                # 92% paid before the acceptance date
                code = self.project(v, "daolu", c, 8, 8, s, s + 150, [(s + 5, c * 30 // 100), (s + 120, c * 62 // 100)])
            self.truth("R14", "projects", code)
            v, _ = self.fresh()
            if i % 2 == 0:                                       # 70% before acceptance, the rest after
                code = self.project(v, "daolu", c, 8, 8, s, s + 100,
                                    [(s + 5, c * 30 // 100), (s + 60, c * 40 // 100), (s + 100, c * 27 // 100)])
            else:                                                # not accepted, 85% paid
                code = self.project(v, "daolu", c, 8, 8, s, NULL_DAY, [(s + 5, c * 30 // 100), (s + 90, c * 55 // 100)])
            self.near("R14", "projects", code)

    def r15(self, n):
        k = self.k
        for i in range(n):
            v, _ = self.fresh()
            hh = k.reserve_cadre_hh_of_v[v]
            legal = int(k.hh_first[hh]) + (0 if i % 2 == 0 else 1)       # the cadre, or the cadre's household
            name = f"{k.v_name[v][:2]}宏{i}建筑劳务有限公司"
            code = self.enterprise(self.pid(legal), "active", day("2019-03-01"), v, name=name)
            s = day(f"{YEAR}-04-01") + i
            c = 20000000 + i * 500000
            self.truth("R15", "projects", self.project(
                v, "jiti", c, 100, 100, s, s + 110, [(s + 5, c * 30 // 100), (s + 50, c * 40 // 100), (s + 115, c * 27 // 100)],
                contractor=(name, code), unit="亩", name="油茶基地建设项目"))
        for i in range(max(1, n // 2)):
            v, _ = self.fresh()
            hh = k.reserve_cadre_hh_of_v[v]
            name = f"{k.v_name[v][:2]}远{i}建筑劳务有限公司"
            code = self.enterprise(self.pid(int(k.hh_first[hh])), "active", day("2019-03-01"), v, name=name)
            w, _ = self.fresh()                                            # a project of another village
            s = day(f"{YEAR}-04-01") + i
            c = 20000000
            self.near("R15", "projects", self.project(
                w, "jiti", c, 100, 100, s, s + 110, [(s + 5, c * 30 // 100), (s + 50, c * 40 // 100), (s + 115, c * 27 // 100)],
                contractor=(name, code), unit="亩", name="油茶基地建设项目"))

    def r16(self, n):
        for i in range(n):
            v, _ = self.fresh()
            d = day(f"{YEAR}-06-10") + i
            self.truth("R16", "ledger", self.entry(v, d, 800000 + i * 10000, category="管理费支出"))
            self.near("R16", "ledger", self.entry(v, d + 3, 499999, category="公益事业支出"))

    def r17(self, n):
        for i in range(n):
            v, _ = self.fresh()
            d = day(f"{YEAR}-04-10") + i
            town = self.k.name_of[self.k.v_code[v][:9] + "000"]
            self.truth("R17", "ledger", self.entry(v, d, 3000000 + i * 10000, direction="income", category="上级补助收入",
                                                   cp=f"{town}财政所", booked=d + 45))
            self.near("R17", "ledger", self.entry(v, d + 5, 1200000, direction="income", category="集体经营收入",
                                                  cp=f"{town}财政所", booked=d + 5 + 30))

    def r18(self, n):
        for i in range(n):
            v, _ = self.fresh()
            d = day(f"{YEAR}-07-03") + i * 3
            cp = f"{self.k.v_name[v]}便民{i}号五金店"
            for off, amt in ((0, 180000), (2, 200000), (6, 150000)):
                self.truth("R18", "ledger", self.entry(v, d + off, amt, category="办公费", cp=cp))
            cp2 = f"{self.k.v_name[v]}利民{i}号超市"
            for off, amt in ((0, 180000), (4, 200000), (8, 150000)):
                self.near("R18", "ledger", self.entry(v, d + 20 + off, amt, category="办公费", cp=cp2))

    def r19(self, n):
        k = self.k
        rng = k.rng
        inv = k.inv
        nexp = len(k.led_exp["v"])
        cand = np.flatnonzero(inv["entry"] < nexp)
        picks = rng.choice(cand, size=n, replace=False)
        for i, j in enumerate(picks):
            j = int(j)
            e = int(inv["entry"][j])
            code, no = k.inv_code(j), k.inv_no(j)
            amt = int(inv["amount"][j])
            issue = int(k.inv_issue[j])
            v, _ = self.fresh()
            rid = self.entry(v, int(k.led_exp["date"][e]) + 20, amt, category="办公费", approved=1, invoices=[])
            self.truth("R19", "invoices", self.invoice(rid, amt, issue, self.entries[-1]["counterparty_name"], code=code, no=no))
            rid2 = self.entry(v, int(k.led_exp["date"][e]) + 21, amt, category="办公费", approved=1, invoices=[])
            self.near("R19", "invoices", self.invoice(rid2, amt, issue, self.entries[-1]["counterparty_name"],
                                                      code=f"04399{88000 + i:07d}", no=no))

    def r20(self, n):
        for i in range(n):
            v, _ = self.fresh()
            d = day(f"{YEAR}-08-10") + i
            if i % 2 == 0:
                self.truth("R20", "ledger", self.entry(v, d, 300000, category="招待费", invoices=[120000, 80000]))
            else:
                self.truth("R20", "ledger", self.entry(v, d, 150000, category="招待费", invoices=[]))
            self.near("R20", "ledger", self.entry(v, d + 2, 1000000, category="公益事业支出", approved=1, invoices=[600000, 390000]))
            self.near("R20", "ledger", self.entry(v, d + 4, 99999, category="报刊费", invoices=[]))

    def r22_r23(self, n):
        k = self.k
        a = k.as_of

        def cmp(v, received, accepted, closed, ext=0, sub=None):
            rid = f"QP{len(self.complaints) + 1:06d}"
            cl = closed != NULL_DAY
            self.complaints.append(dict(complaint_id=rid, region_code=k.v_code[v], channel=["visit", "letter", "phone"][len(self.complaints) % 3],
                                        category="livelihood_funds", received_date=received, accepted_date=accepted,
                                        closed_date=closed, extension_approved=ext,
                                        substantiated=(1 if sub else 0) if cl else -1, amount_involved=1200000,
                                        summary="反映低保资金发放问题", complainant_name=k.person_names(1)[0],
                                        complainant_contact="13807340000"))
            return rid
        for i in range(n):
            v, _ = self.fresh()
            r = a - 120 - i
            self.truth("R22", "complaints", cmp(v, r, r + 10, r + 40, sub=True))          # accepted on day 10
            if i % 2:
                self.truth("R22", "complaints", cmp(v, a - 30 - i, NULL_DAY, NULL_DAY))    # never accepted
            self.near("R22", "complaints", cmp(v, r, r + 7, r + 30))                      # accepted on day 7
            acc = a - 220 - i
            if i % 3 == 0:
                self.truth("R23", "complaints", cmp(v, acc - 2, acc, int(add_months(np.array([acc]), 3)[0]) + 10, sub=True))
            elif i % 3 == 1:
                self.truth("R23", "complaints", cmp(v, a - 152, a - 150, NULL_DAY))        # open past the deadline
            else:
                self.truth("R23", "complaints", cmp(v, acc - 1, acc, int(add_months(np.array([acc]), 4)[0]) + 5, ext=1))
            self.near("R23", "complaints", cmp(v, acc - 3, acc, int(add_months(np.array([acc]), 3)[0])))   # last day
            self.near("R23", "complaints", cmp(v, acc - 3, acc, int(add_months(np.array([acc]), 4)[0]), ext=1))

    def complaint_counts(self) -> dict:
        c = self.complaints
        return dict(n=len(c), unaccepted=sum(x["accepted_date"] == NULL_DAY for x in c),
                    closed=sum(x["closed_date"] != NULL_DAY for x in c), substantiated=sum(x["substantiated"] == 1 for x in c),
                    involved=sum(x["amount_involved"] for x in c))


__all__ = ["Planter", "iso"]
