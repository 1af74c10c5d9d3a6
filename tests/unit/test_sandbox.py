"""The sandbox runs ordinary code like CPython does, keeps state, forks, calls tools, and recovers."""

from __future__ import annotations

import contextlib
import io
import textwrap

import pytest

from runtime.sandbox import ExecResult, Sandbox, SandboxError, SandboxPolicy
from runtime.tools import Tool, ToolError, Toolset, ToolSpec
from tests.helpers import STUBBORN_LOOP

# Each program must print the same thing in the sandbox as under plain exec().
PROGRAMS: dict[str, str] = {
    "eval_of_arithmetic_strings": """
        import itertools
        found = []
        for a, b, c, d in itertools.permutations([4, 7, 8, 8]):
            for o1, o2, o3 in itertools.product("+-*/", repeat=3):
                expr = f"(({a} {o1} {b}) {o2} {c}) {o3} {d}"
                try:
                    if abs(eval(expr) - 24) < 1e-9:
                        found.append(expr)
                except ZeroDivisionError:
                    pass
        print(len(found), found[:2])
        print(eval("-3 ** 2"), eval("7 // 2"), eval("2 ** 0.5"), eval(" 10 % 4 "), eval("1e3 / 8"), eval("(1)"))
    """,
    "for_while_break_else": """
        total = 0
        for i in range(10):
            if i == 7:
                break
            if i % 2:
                continue
            total += i
        else:
            total = -1
        n = 0
        while n < 5:
            n += 2
        else:
            print("while done")
        print(total, n)
    """,
    "comprehensions": """
        squares = [x * x for x in range(8) if x % 2 == 0]
        grid = [[r * 3 + c for c in range(3)] for r in range(3)]
        index = {w: len(w) for w in ["alpha", "be", "gam"]}
        evens = {x % 4 for x in range(20)}
        print(squares, grid, sorted(index.items()), sorted(evens), sum(x for x in range(101)))
    """,
    "classes_and_attributes": """
        class Account:
            rate = 0.05
            def __init__(self, owner, balance=0):
                self.owner = owner
                self.balance = balance
                self.history = []
            def deposit(self, amount):
                self.balance += amount
                self.history.append(amount)
                return self
            def __repr__(self):
                return f"Account({self.owner!r}, {self.balance})"
        a = Account("ann").deposit(10).deposit(5)
        a.note = "vip"
        Account.rate = 0.1
        print(a, a.history, a.note, a.rate)
    """,
    "inheritance_and_super": """
        class Shape:
            def __init__(self, name):
                self.name = name
            def area(self):
                return 0
            def describe(self):
                return f"{self.name}: {self.area():.2f}"
        class Rect(Shape):
            def __init__(self, w, h):
                super().__init__("rect")
                self.w, self.h = w, h
            def area(self):
                return self.w * self.h
        class Square(Rect):
            def __init__(self, s):
                super().__init__(s, s)
                self.name = "square"
        for s in [Shape("blob"), Rect(2, 3.5), Square(3)]:
            print(s.describe(), isinstance(s, Rect))
    """,
    "special_methods": """
        class Vec:
            def __init__(self, x, y):
                self.x, self.y = x, y
            def __add__(self, o):
                return Vec(self.x + o.x, self.y + o.y)
            def __mul__(self, k):
                return Vec(self.x * k, self.y * k)
            def __eq__(self, o):
                return (self.x, self.y) == (o.x, o.y)
            def __lt__(self, o):
                return (self.x, self.y) < (o.x, o.y)
            def __len__(self):
                return 2
            def __iter__(self):
                return iter((self.x, self.y))
            def __str__(self):
                return f"<{self.x}, {self.y}>"
        v = Vec(1, 2) + Vec(3, 4) * 2
        print(v, len(v), list(v), Vec(1, 1) == Vec(1, 1), min([Vec(2, 1), Vec(1, 5)]))
    """,
    "properties_static_class_methods": """
        class Temp:
            def __init__(self, c):
                self.c = c
            @property
            def f(self):
                return self.c * 9 / 5 + 32
            @staticmethod
            def boiling():
                return 100
            @classmethod
            def from_f(cls, f):
                return cls((f - 32) * 5 / 9)
        t = Temp.from_f(212)
        print(t.c, t.f, Temp.boiling())
    """,
    "functions_args_kwargs": """
        def f(a, b=2, *rest, scale=1, **opts):
            return (a + b + sum(rest)) * scale, sorted(opts)
        print(f(1), f(1, 2, 3, 4, scale=2, z=1, y=2))
        args = [5, 6]
        kw = {"scale": 3}
        print(f(*args, **kw))
    """,
    "recursion": """
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        def depth(n):
            return 0 if n == 0 else 1 + depth(n - 1)
        def hanoi(n, a, b, c, moves):
            if n:
                hanoi(n - 1, a, c, b, moves)
                moves.append((a, c))
                hanoi(n - 1, b, a, c, moves)
            return moves
        print(fib(20), depth(300), len(hanoi(8, "A", "B", "C", [])))
    """,
    "memo_and_lru_cache": """
        from functools import lru_cache
        memo = {}
        def ways(n):
            if n <= 1:
                return 1
            if n not in memo:
                memo[n] = ways(n - 1) + ways(n - 2)
            return memo[n]
        @lru_cache(maxsize=None)
        def paths(r, c):
            return 1 if r == 0 or c == 0 else paths(r - 1, c) + paths(r, c - 1)
        print(ways(80), paths(10, 10))
    """,
    "fstrings_with_format_specs": """
        pi = 3.14159265
        n = 1234567
        name = "ada"
        print(f"{pi:.3f}|{pi:10.2f}|{n:,}|{n:>12}|{name!r}|{name:^9}|{0.25:.1%}|{255:#x}|{7:08b}|{pi=:.2f}")
        width = 6
        print(f"{name:>{width}}|{n:_}|{-3:+d}")
    """,
    "str_format_and_percent": """
        point = {"x": 3, "y": 4}
        class P:
            def __init__(self):
                self.x = 1
        print("{} + {} = {}".format(1, 2, 3), "{0}{1}{0}".format("a", "b"))
        print("{p.x} and {d[x]} {v:>5.1f}".format(p=P(), d=point, v=2.345))
        print("{x}-{y}".format_map(point), "%s has %d items (%.2f)" % ("cart", 3, 9.5))
        print("%(x)s/%(y)s" % point)
    """,
    "fractions_and_decimal": """
        from fractions import Fraction
        from decimal import Decimal, getcontext
        h = sum(Fraction(1, k) for k in range(1, 11))
        print(h, float(h), Fraction(3, 4) * 2, Fraction("0.125"))
        getcontext().prec = 30
        print(Decimal(1) / Decimal(7), Decimal("0.1") + Decimal("0.2"))
    """,
    "itertools": """
        import itertools
        print(list(itertools.permutations([1, 2, 3], 2))[:4])
        print(list(itertools.combinations("abcd", 2)))
        print(list(itertools.product([0, 1], repeat=3))[-2:])
        print(list(itertools.accumulate([1, 2, 3, 4])), list(itertools.islice(itertools.count(5, 3), 4)))
        print([(k, len(list(g))) for k, g in itertools.groupby("aaabccdd")])
        print(list(itertools.chain([1], (2, 3))), list(itertools.zip_longest("ab", "xyz", fillvalue="-")))
    """,
    "math_module": """
        import math
        print(math.gcd(84, 36), math.lcm(4, 6), math.isqrt(99), math.comb(10, 3), math.factorial(12))
        print(round(math.sqrt(2), 6), math.isclose(0.1 + 0.2, 0.3), math.floor(-2.5), math.pi)
        print(math.log(1000, 10), math.hypot(3, 4), math.inf > 10**100)
    """,
    "sorting_with_keys": """
        from operator import itemgetter, attrgetter
        people = [("bob", 25), ("amy", 31), ("cal", 25), ("dee", 19)]
        print(sorted(people, key=lambda p: (p[1], p[0])))
        print(sorted(people, key=itemgetter(1), reverse=True))
        words = "the quick brown fox jumps over a lazy dog".split()
        print(sorted(words, key=len), max(words, key=len))
        class Item:
            def __init__(self, name, price):
                self.name, self.price = name, price
            def __repr__(self):
                return self.name
        items = [Item("b", 3), Item("a", 1), Item("c", 2)]
        items.sort(key=attrgetter("price"))
        print(items)
    """,
    "exceptions_caught": """
        class InsufficientFunds(Exception):
            def __init__(self, need):
                super().__init__(f"need {need} more")
                self.need = need
        def withdraw(balance, amount):
            if amount > balance:
                raise InsufficientFunds(amount - balance)
            return balance - amount
        log = []
        for amount in [5, 50]:
            try:
                log.append(withdraw(20, amount))
            except InsufficientFunds as e:
                log.append(str(e))
            else:
                log.append("ok")
            finally:
                log.append("done")
        try:
            {}["missing"]
        except KeyError as e:
            log.append(repr(e))
        try:
            int("x")
        except (TypeError, ValueError) as e:
            log.append(type(e).__name__)
        try:
            try:
                1 / 0
            except ZeroDivisionError as e:
                raise ValueError("wrapped") from e
        except ValueError as e:
            log.append(str(e))
        print(log)
    """,
    "dicts_and_sets": """
        from collections import Counter, defaultdict
        text = "to be or not to be that is the question"
        counts = {}
        for w in text.split():
            counts[w] = counts.get(w, 0) + 1
        freq = defaultdict(int)
        for ch in text.replace(" ", ""):
            freq[ch] += 1
        a, b = {1, 2, 3, 4}, {3, 4, 5}
        d = {"x": 1}
        d.update(y=2)
        d.setdefault("z", []).append(3)
        del d["x"]
        print(sorted(counts.items()), Counter(text.split()).most_common(2), freq["t"])
        print(sorted(a | b), sorted(a & b), sorted(a - b), sorted(a ^ b), d, 3 in a)
    """,
    "generators": """
        def countdown(n):
            while n > 0:
                yield n
                n -= 1
        def chain_all(*its):
            for it in its:
                yield from it
        def fib():
            a, b = 0, 1
            while True:
                yield a
                a, b = b, a + b
        g = fib()
        first = [next(g) for _ in range(10)]
        print(list(countdown(5)), list(chain_all("ab", [1, 2])), first, sum(x * x for x in countdown(4)))
    """,
    "lambdas_and_closures": """
        def make_counter():
            count = 0
            def inc(step=1):
                nonlocal count
                count += step
                return count
            return inc
        c = make_counter()
        c(); c(5)
        adders = [lambda x, k=k: x + k for k in range(3)]
        compose = lambda f, g: lambda x: f(g(x))
        print(c(), [f(10) for f in adders], compose(abs, lambda x: x - 10)(3), list(map(lambda s: s.upper(), "ab")))
    """,
    "context_manager_class": """
        class Recorder:
            def __init__(self):
                self.events = []
            def __enter__(self):
                self.events.append("enter")
                return self
            def __exit__(self, exc_type, exc, tb):
                self.events.append("exit:" + str(exc_type is not None))
                return True
        with Recorder() as r:
            r.events.append("body")
            raise ValueError("swallowed")
        print(r.events)
    """,
    "heapq_and_bisect": """
        import heapq, bisect
        h = []
        for x in [5, 1, 8, 3, 9, 2]:
            heapq.heappush(h, x)
        smallest = [heapq.heappop(h) for _ in range(3)]
        data = [1, 3, 3, 7, 10]
        print(smallest, heapq.nlargest(2, [4, 9, 1, 7]), bisect.bisect_left(data, 3), bisect.bisect(data, 3))
        bisect.insort(data, 5)
        print(data)
    """,
    "json_and_re": """
        import json, re
        record = {"name": "x", "tags": ["a", "b"], "n": 3, "ok": True, "none": None}
        text = json.dumps(record, sort_keys=True)
        back = json.loads(text)
        print(text, back == record, json.dumps([1, 2], indent=1))
        s = "Call 555-1234 or 555-9876 today"
        print(re.findall(r"\\d{3}-\\d{4}", s), re.sub(r"(\\d+)-(\\d+)", r"\\2-\\1", s))
        m = re.match(r"(?P<word>\\w+) (\\d+)", "item 42")
        print(m.group("word"), m.group(2), m.span())
    """,
    "collections_namedtuple_deque": """
        from collections import namedtuple, deque, OrderedDict
        Point = namedtuple("Point", "x y")
        p = Point(3, 4)
        q = deque([1, 2, 3], maxlen=4)
        q.appendleft(0); q.append(4); q.rotate(1)
        od = OrderedDict(a=1, b=2)
        od.move_to_end("a")
        print(p, p.x + p.y, list(q), list(od))
    """,
    "statistics_and_datetime": """
        import statistics, datetime
        data = [2, 4, 4, 4, 5, 5, 7, 9]
        print(statistics.mean(data), statistics.median(data), statistics.pstdev(data), statistics.mode(data))
        d = datetime.date(2024, 2, 28) + datetime.timedelta(days=2)
        print(d, d.isoformat(), d.weekday(), (datetime.date(2025, 1, 1) - datetime.date(2024, 1, 1)).days)
        print(datetime.datetime(2020, 5, 17, 8, 30).strftime("%Y-%m-%d %H:%M"))
    """,
    "string_methods": """
        s = "  Hello, World  "
        print(s.strip().lower(), s.split(","), "-".join(["a", "b", "c"]), "abc".upper().center(9, "*"))
        print("42".zfill(5), "banana".count("an"), "banana".replace("a", "o", 2), "a,b,,c".split(","))
        print("Title Case".swapcase(), "hello world".title(), "abc"[::-1], "x" in "xyz", "abc".startswith("ab"))
        print(ord("A"), chr(97), str(12) + "3", int("ff", 16), bin(10), hex(255), oct(8), float("1e3"))
    """,
    "unpacking_and_slicing": """
        a, b = 1, 2
        a, b = b, a
        first, *middle, last = range(6)
        (x, y), z = (1, 2), 3
        pairs = [(1, "a"), (2, "b")]
        for num, (ch,) in [(1, ("p",)), (2, ("q",))]:
            print(num, ch, end=" ")
        nums = list(range(10))
        nums[2:4] = [20, 30, 40]
        del nums[0]
        print(a, b, first, middle, last, x, y, z, dict(pairs), nums[::3], nums[-2:])
    """,
    "walrus_and_global": """
        counter = 0
        def bump():
            global counter
            counter += 1
        for _ in range(3):
            bump()
        data = [3, 8, 1, 9]
        if (n := len(data)) > 3:
            print("long list", n)
        chunks = []
        it = iter(range(7))
        while (chunk := [v for _, v in zip(range(3), it)]):
            chunks.append(chunk)
        print(counter, chunks)
    """,
    "game_of_24": """
        from itertools import permutations, product
        from fractions import Fraction
        def solve(nums):
            ops = "+-*/"
            for a, b, c, d in permutations([Fraction(n) for n in nums]):
                for o1, o2, o3 in product(ops, repeat=3):
                    for expr in [f"(({a}{o1}{b}){o2}{c}){o3}{d}", f"({a}{o1}{b}){o2}({c}{o3}{d})"]:
                        try:
                            if calc(expr) == 24:
                                return expr
                        except ZeroDivisionError:
                            pass
            return None
        def calc(expr):
            tokens = expr.replace("(", " ( ").replace(")", " ) ")
            for op in "+-*/":
                tokens = tokens.replace(op, f" {op} ")
            return parse(tokens.split())
        def parse(tokens):
            def atom(i):
                if tokens[i] == "(":
                    v, i = expr(i + 1)
                    return v, i + 1
                return Fraction(tokens[i]), i + 1
            def term(i):
                v, i = atom(i)
                while i < len(tokens) and tokens[i] in "*/":
                    op = tokens[i]
                    r, i = atom(i + 1)
                    v = v * r if op == "*" else v / r
                return v, i
            def expr(i):
                v, i = term(i)
                while i < len(tokens) and tokens[i] in "+-":
                    op = tokens[i]
                    r, i = term(i + 1)
                    v = v + r if op == "+" else v - r
                return v, i
            return expr(0)[0]
        print(solve([4, 7, 8, 8]), solve([1, 1, 1, 1]))
    """,
    "matrices": """
        A = [[1, 2], [3, 4]]
        B = [[0, 1], [1, 0]]
        def matmul(X, Y):
            return [[sum(X[i][k] * Y[k][j] for k in range(len(Y))) for j in range(len(Y[0]))] for i in range(len(X))]
        T = [list(row) for row in zip(*A)]
        M = [row[:] for row in A]
        M[0][1] += 10
        print(matmul(A, B), T, M, A)
    """,
    "binary_search_and_sieve": """
        def bsearch(xs, target):
            lo, hi = 0, len(xs) - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                if xs[mid] == target:
                    return mid
                if xs[mid] < target:
                    lo = mid + 1
                else:
                    hi = mid - 1
            return -1
        def primes(n):
            sieve = [True] * (n + 1)
            sieve[0] = sieve[1] = False
            for i in range(2, int(n ** 0.5) + 1):
                if sieve[i]:
                    sieve[i * i :: i] = [False] * len(sieve[i * i :: i])
            return [i for i, p in enumerate(sieve) if p]
        ps = primes(100)
        print(len(ps), ps[-3:], bsearch(ps, 37), bsearch(ps, 40))
    """,
    "textwrap_unicodedata_calendar_string": """
        import textwrap, unicodedata, calendar, string
        print(textwrap.fill("the quick brown fox jumps over the lazy dog", 12))
        print(textwrap.shorten("a long sentence that goes on", width=15), textwrap.dedent("  a\\n  b"))
        print(unicodedata.name("é"), unicodedata.normalize("NFD", "é") != "é", calendar.isleap(2024))
        print(calendar.monthrange(2024, 2), string.ascii_lowercase[:5], string.Template("$a+$b").substitute(a=1, b=2))
        print(string.capwords("hello there"), string.digits)
    """,
    "typing_annotations": """
        from typing import List, Dict, Optional, NamedTuple
        class Pair(NamedTuple):
            left: int
            right: int = 0
        def total(xs: List[int], bonus: Optional[int] = None) -> int:
            return sum(xs) + (bonus or 0)
        table: Dict[str, int] = {"a": 1}
        limit: int = 10
        print(total([1, 2, 3], 4), table, limit, Pair(1), Pair(2, 3).right)
    """,
    "builtins_iteration": """
        names = ["a", "b", "c"]
        scores = [3, 1, 2]
        print(list(enumerate(names, 1)), list(zip(names, scores)), dict(zip(names, scores)))
        print(list(filter(None, [0, 1, "", "x"])), list(reversed(names)), any(s > 2 for s in scores), all(scores))
        print(divmod(17, 5), pow(3, 4, 5), abs(-2.5), round(2.675, 2), round(7.5), min(3, 1, 2), max("ab", "b"))
        print(isinstance(3, (int, float)), callable(len), type(3.0) is float, tuple(range(3)), frozenset([1, 1]))
        it = iter([1, 2])
        print(next(it), next(it), next(it, "end"), len({1: 2}), sorted("cba"), str(b"hi", "ascii"))
    """,
    "copy_and_random_seeded": """
        import copy, random
        grid = [[1, 2], [3, 4]]
        deep = copy.deepcopy(grid)
        deep[0][0] = 99
        shallow = copy.copy(grid)
        random.seed(42)
        r = random.Random(7)
        print(grid, deep, shallow is grid, [random.randint(1, 100) for _ in range(3)], r.choice("abcdef"))
    """,
    "iterator_protocol_class": """
        class Countdown:
            def __init__(self, start):
                self.current = start
            def __iter__(self):
                return self
            def __next__(self):
                if self.current <= 0:
                    raise StopIteration
                self.current -= 1
                return self.current + 1
        class Bag:
            def __init__(self):
                self.items = {}
            def __getitem__(self, k):
                return self.items.get(k, 0)
            def __setitem__(self, k, v):
                self.items[k] = v
            def __contains__(self, k):
                return k in self.items
        b = Bag()
        b["x"] = 2
        b["x"] += 3
        print(list(Countdown(4)), b["x"], "x" in b, "y" in b, b["y"])
    """,
    "print_sep_end_and_main_guard": """
        def main():
            print("a", "b", "c", sep="-", end="!\\n")
            print(*[1, 2, 3])
            print()
            print("done", flush=True)
        if __name__ == "__main__":
            main()
    """,
}


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed fork may wait a moment for init to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def plain_output(code: str) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(code, "<plain>", "exec"), {"__name__": "__main__"})
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxPolicy(timeout_s=5)) as box:
        yield box


@pytest.fixture(scope="module")
def toolset():
    def add(args):
        return args["a"] + args.get("b", 0)

    def refuse(args):
        raise ToolError(f"no such city: {args['city']}")

    def describe(args):
        return {"kind": type(args["value"]).__name__, "value": args["value"]}

    return Toolset(
        [
            Tool(spec=ToolSpec(name="add", qualified_name="t.add", signature="(a, b=0)", param_names=["a", "b"]),
                 handler=add),
            Tool(spec=ToolSpec(name="weather", qualified_name="t.weather", signature="(city)", param_names=["city"]),
                 handler=refuse),
            Tool(spec=ToolSpec(name="describe", qualified_name="t.describe", signature="(value)",
                               param_names=["value"]), handler=describe),
        ]
    )


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_ordinary_program_prints_what_cpython_prints(sandbox, name):
    code = textwrap.dedent(PROGRAMS[name])
    fork = sandbox.fork()  # a clean copy per program, so programs cannot lean on each other
    try:
        result = fork.run(code)
    finally:
        fork.close()
    assert result.error is None
    assert result.ok
    assert result.stdout == plain_output(code)


def test_variables_functions_and_classes_persist_across_runs(sandbox):
    sandbox.run("counter = 10\ndef twice(x):\n    return 2 * x\nclass Box:\n    size = 3")
    sandbox.run("counter += twice(Box.size)")
    assert sandbox.run("print(counter)").stdout == "16\n"


def test_trailing_expression_value_is_its_repr(sandbox):
    result = sandbox.run("x = [1, 'two']\nx")
    assert (result.ok, result.value, result.stdout) == (True, "[1, 'two']", "")
    assert sandbox.run("x = 1").value is None
    assert sandbox.run("print('hi')").value is None  # print() returns None, which is not shown
    assert sandbox.run("'a' + 'b'").value == "'ab'"


def test_huge_values_are_summarized(sandbox):
    result = sandbox.run("list(range(10**6))")
    assert result.ok
    assert len(result.value) < 5000
    assert result.value.startswith("[0, 1, 2")
    assert "list of 1000000 items" in result.value
    assert "bits>" in sandbox.run("7 ** 100000").value


def test_final_answer_ends_the_action(sandbox):
    result = sandbox.run("print('before')\nfinal_answer({'n': 24, 'how': (1, 2)})\nprint('after')")
    assert result.ok and result.final
    assert result.answer == {"n": 24, "how": [1, 2]}
    assert result.stdout == "before\n"


def test_final_answer_of_several_values_is_one_answer_in_parts(sandbox):
    # "Which planet has the most moons, and who wrote Pride and Prejudice?" has two parts
    assert sandbox.run("final_answer('Saturn', 'Jane Austen')").answer == ["Saturn", "Jane Austen"]
    assert sandbox.run("final_answer()").answer is None
    assert sandbox.run("final_answer(answer=7)").answer == 7


def test_final_answer_of_non_json_value_is_its_str(sandbox):
    result = sandbox.run("from fractions import Fraction\nfinal_answer(Fraction(3, 4))")
    assert result.final and result.answer == "3/4"


def test_final_answer_inside_a_function_cannot_be_swallowed_by_except_exception(sandbox):
    result = sandbox.run("def f():\n    try:\n        final_answer(7)\n    except Exception:\n        return 0\nf()")
    assert result.final and result.answer == 7


def test_syntax_error_names_line_and_message(sandbox):
    result = sandbox.run("x = 1\nif x\n    print(x)")
    assert not result.ok and result.error_kind == "syntax"
    assert "SyntaxError" in result.error and "line 2" in result.error


def test_source_with_null_bytes_is_a_syntax_error(sandbox):
    result = sandbox.run("x = 1\0")
    assert result.error_kind == "syntax" and "null bytes" in result.error


def test_runtime_error_names_type_message_and_line(sandbox):
    result = sandbox.run("a = 1\nb = 0\nc = a / b")
    assert (result.ok, result.error_kind) == (False, "runtime")
    assert result.error == "ZeroDivisionError: division by zero (line 3)"


def test_error_keeps_output_printed_before_it(sandbox):
    result = sandbox.run("print('partial')\n[][1]")
    assert result.stdout == "partial\n"
    assert result.error == "IndexError: list index out of range (line 2)"


def test_long_output_is_truncated_with_a_marker(sandbox):
    result = sandbox.run("for i in range(5000):\n    print(i)")
    assert result.ok
    assert len(result.stdout) < sandbox.policy.max_output_chars + 100
    assert "more characters truncated]" in result.stdout
    assert result.stdout.startswith("0\n1\n2\n")
    assert result.stdout.endswith("4998\n4999\n")


def test_any_text_crosses_the_process_boundary(sandbox):
    result = sandbox.run("print('naïve ✓ 数学', chr(0xD800))\nfinal_answer(chr(0xDC00) + '€')")
    assert result.stdout == "naïve ✓ 数学 \ud800\n"
    assert result.answer == "\udc00€"


def test_fork_and_commit_replace_the_session_state(sandbox):
    sandbox.run("x = 0\nlog = []")
    a, b = sandbox.fork(), sandbox.fork()
    assert a.run("x = 1\nlog.append('a')\nonly_in_a = True").ok
    assert b.run("x = 2\nlog.append('b')").ok
    assert sandbox.run("print(x, log)").stdout == "0 []\n"  # forks do not touch the session
    sandbox.commit(b)
    assert sandbox.run("print(x, log)").stdout == "2 ['b']\n"
    result = sandbox.run("only_in_a")
    assert result.error_kind == "runtime" and "NameError" in result.error
    with pytest.raises(SandboxError):
        a.run("x")  # discarded by the commit


def test_fork_sees_state_and_can_be_forked_again_after_commit(sandbox):
    sandbox.run("def sq(v):\n    return v * v\nbase = 7")
    first = sandbox.fork()
    assert first.run("base = sq(base)\nbase").value == "49"
    sandbox.commit(first)
    second = sandbox.fork()
    assert second.run("sq(base)").value == "2401"
    second.close()
    assert sandbox.run("base").value == "49"


def test_tool_calls_cross_the_process_boundary(toolset):
    with Sandbox(SandboxPolicy(timeout_s=5), toolset) as box:
        assert box.run("add(2, 3)").value == "5"
        assert box.run("add(a=2)").value == "2"
        assert box.run("describe({'k': [1, 2.5, None]})").value == "{'kind': 'dict', 'value': {'k': [1, 2.5, None]}}"
        fork = box.fork()
        assert fork.run("total = add(40, 2)\ntotal").value == "42"
        box.commit(fork)
        assert box.run("total").value == "42"


def test_tool_error_is_raised_in_the_sandbox_and_can_be_caught(toolset):
    with Sandbox(SandboxPolicy(timeout_s=5), toolset) as box:
        caught = box.run("try:\n    weather('Atlantis')\nexcept ToolError as e:\n    print('caught:', e)")
        assert caught.ok and caught.stdout == "caught: no such city: Atlantis\n"
        uncaught = box.run("weather('Atlantis')")
        assert uncaught.error_kind == "runtime"
        assert uncaught.error == "ToolError: no such city: Atlantis (line 1)"


def test_tool_arguments_must_be_json_data(toolset):
    with Sandbox(SandboxPolicy(timeout_s=5), toolset) as box:
        result = box.run("add({1, 2})")
        assert result.error_kind == "runtime" and "JSON data" in result.error
        assert "positional" in box.run("add(1, 2, 3)").error


def test_runaway_loop_is_stopped_and_variables_are_kept():
    with Sandbox(SandboxPolicy(timeout_s=0.5)) as box:
        box.run("kept = 'yes'")
        result = box.run("while True:\n    pass")
        assert (result.ok, result.error_kind, result.state_lost) == (False, "timeout", False)
        assert "wall-clock limit" in result.error
        assert box.run("kept").value == "'yes'"


def test_timeout_that_ignores_the_interrupt_restarts_the_worker():
    with Sandbox(SandboxPolicy(timeout_s=0.5)) as box:
        box.run("kept = 'yes'")
        result = box.run(STUBBORN_LOOP)
        assert (result.ok, result.error_kind, result.state_lost) == (False, "timeout", True)
        assert result.error == (
            "Action stopped after 0.5 s (wall-clock limit). The sandbox was restarted; "
            "variables from earlier steps are lost."
        )
        assert result.duration_s < 3
        assert box.run("print(1 + 1)").stdout == "2\n"
        assert "NameError" in box.run("kept").error


def test_timeout_in_a_fork_discards_only_that_candidate():
    with Sandbox(SandboxPolicy(timeout_s=0.5)) as box:
        box.run("kept = 1")
        fork = box.fork()
        result = fork.run("kept = 0" + STUBBORN_LOOP)
        assert (result.error_kind, result.state_lost) == ("timeout", False)
        assert "session's variables are unchanged" in result.error
        box.commit(fork)
        assert box.run("kept").value == "1"


def test_close_stops_the_worker_and_forks():
    box = Sandbox()
    box.run("x = 1")
    fork = box.fork()
    pids = [box.pid, fork.pid]
    box.close()
    assert not any(running(pid) for pid in pids)
    with pytest.raises(SandboxError):
        box.run("x")


def test_policy_refuses_modules_that_reach_the_process():
    with pytest.raises(ValueError, match="'os'"):
        SandboxPolicy(allowed_modules=("math", "os"))
    with pytest.raises(ValueError, match="needs its package"):
        SandboxPolicy(allowed_modules=("collections.abc",))


def test_import_outside_the_allow_list_is_refused_but_catchable(sandbox):
    result = sandbox.run("try:\n    import numpy\nexcept ImportError as e:\n    print('fallback:', e)")
    assert result.ok and result.stdout.startswith("fallback: import of 'numpy' is not allowed")


def test_the_allowed_modules_come_imported_and_a_variable_of_that_name_wins(sandbox):
    result = sandbox.run("print(list(itertools.permutations([1, 2])), math.sqrt(16))")
    assert result.ok and result.stdout == "[(1, 2), (2, 1)] 4.0\n"
    assert sandbox.run("math = 3\nprint(math)").stdout == "3\n"
    assert not sandbox.run("print(os)").ok  # only the allowed ones
    refused = sandbox.run("print(itertools.__dict__)")
    assert not refused.ok and "starts with" in (refused.error or "")


def test_exec_result_is_plain_data():
    result = ExecResult(ok=True, stdout="", duration_s=0.1)
    assert ExecResult.model_validate_json(result.model_dump_json()) == result


def test_importing_a_tool_gives_the_tool():
    spec = ToolSpec(name="evaluate", qualified_name="math.evaluate", signature="(e: str) -> str", param_names=["e"])
    with Sandbox(toolset=Toolset([Tool(spec=spec, handler=lambda args: args["e"])])) as box:
        assert box.run("from evaluate import evaluate\nprint(evaluate('a'))").stdout.strip() == "a"
        assert box.run("from tools import evaluate\nprint(evaluate('b'))").stdout.strip() == "b"
        assert box.run("import evaluate\nprint(evaluate('c'))").stdout.strip() == "c"
        refused = box.run("from evaluate import os")
        assert not refused.ok and "not available" in refused.error
        assert not box.run("import os").ok


def test_code_cannot_redefine_a_tool_or_final_answer(toolset):
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        stub = box.run('def add(a, b=0):\n    """Copied from the prompt."""\n    return 0\nprint(add(1, 2))')
        assert not stub.ok and stub.error_kind == "policy"
        assert "add is already defined by the runtime; call it as it is" in stub.error and "(line 1)" in stub.error
        assert not box.run("final_answer = print").ok and not box.run("class add:\n    pass").ok
        assert box.run("print(add(1, 2))").stdout.strip() == "3"  # the tool is untouched
        assert box.run("def helper(add):\n    add = 1\n    return add\nprint(helper(0))").stdout.strip() == "1"  # locals may
        assert box.run("from add import add\nprint(add(2, 2))").stdout.strip() == "4"  # and the tool-import idiom works


def test_a_copied_tool_stub_is_dropped_and_the_real_tool_runs(toolset):
    """The stub as the prompt lists it, pasted above the call (seen from the 1.5B model)."""
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        pasted = box.run('def add(a: int, b: int = 0) -> int:\n    """Add two numbers."""\n\nprint(add(1, 2))')
        assert pasted.ok and pasted.stdout.strip() == "3"
        for body in ("...", "pass", '"""Doc."""\n    ...'):
            assert box.run(f"def add(a, b=0):\n    {body}\nprint(add(2, 3))").stdout.strip() == "5"
        assert box.run('def final_answer(answer):\n    """Give the answer."""\nfinal_answer(7)').final
        assert not box.run("def add(a, b=0):\n    x = 1\nprint(add(1, 1))").ok  # a body of its own is refused
