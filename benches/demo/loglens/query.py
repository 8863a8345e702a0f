"""A tiny filter language over records, e.g.

    status >= 500 and (path ~ "/api" or method == "POST") and not is_bot
    family in ("Chrome", "Firefox") and q.sort == "price"
    latency > 0.25

tokenize() turns the text into tokens, Parser builds a tuple AST with the
usual precedence (not > and > or), and compile_query() turns the AST into
nested closures, so a query is parsed once and applied to many records.
`q.NAME` reads a query-string parameter; `~` is substring match.  Errors
carry the column of the offending token.
"""

FIELDS = ("host", "user", "time", "method", "path", "status", "size",
          "referer", "agent", "family", "is_bot", "latency")
KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}
OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "~")
IDENT_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
IDENT_REST = IDENT_START + "0123456789."
DIGITS = "0123456789"


class QueryError(ValueError):
    def __init__(self, message, column):
        ValueError.__init__(self, "column %d: %s" % (column, message))
        self.column = column


def tokenize(text):
    """Text -> list of (kind, value, column); kinds: name, kw, num, str,
    op, '(', ')', ','."""
    tokens = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == " " or ch == "\t" or ch == "\n":
            i += 1
        elif ch in IDENT_START:
            j = i + 1
            while j < n and text[j] in IDENT_REST:
                j += 1
            word = text[i:j]
            tokens.append(("kw" if word in KEYWORDS else "name", word, i))
            i = j
        elif ch in DIGITS:
            j = i + 1
            seen_dot = False
            while j < n and (text[j] in DIGITS or
                             (text[j] == "." and not seen_dot)):
                if text[j] == ".":
                    seen_dot = True
                j += 1
            word = text[i:j]
            tokens.append(("num", float(word) if seen_dot else int(word), i))
            i = j
        elif ch == '"' or ch == "'":
            j = i + 1
            chars = []
            while j < n and text[j] != ch:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                chars.append(text[j])
                j += 1
            if j >= n:
                raise QueryError("unterminated string", i)
            tokens.append(("str", "".join(chars), i))
            i = j + 1
        elif ch in "(),":
            tokens.append((ch, ch, i))
            i += 1
        else:
            two = text[i:i + 2]
            if two in OPERATORS:
                tokens.append(("op", two, i))
                i += 2
            elif ch in OPERATORS:
                tokens.append(("op", ch, i))
                i += 1
            else:
                raise QueryError("unexpected character %r" % ch, i)
    tokens.append(("end", None, n))
    return tokens


class Parser:
    """Recursive descent over tokenize()'s output."""

    def __init__(self, text):
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos]

    def take(self, kind, value=None):
        tok = self.tokens[self.pos]
        if tok[0] != kind or (value is not None and tok[1] != value):
            want = value if value is not None else kind
            raise QueryError("expected %s, got %r" % (want, tok[1]), tok[2])
        self.pos += 1
        return tok

    def accept(self, kind, value):
        tok = self.tokens[self.pos]
        if tok[0] == kind and tok[1] == value:
            self.pos += 1
            return True
        return False

    def parse(self):
        node = self.parse_or()
        self.take("end")
        return node

    def parse_or(self):
        node = self.parse_and()
        while self.accept("kw", "or"):
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self):
        node = self.parse_not()
        while self.accept("kw", "and"):
            node = ("and", node, self.parse_not())
        return node

    def parse_not(self):
        if self.accept("kw", "not"):
            return ("not", self.parse_not())
        return self.parse_cmp()

    def parse_cmp(self):
        if self.accept("(", "("):
            node = self.parse_or()
            self.take(")")
            return node
        left = self.parse_operand()
        tok = self.peek()
        if tok[0] == "op":
            self.pos += 1
            return ("cmp", tok[1], left, self.parse_operand())
        if tok[0] == "kw" and tok[1] == "in":
            self.pos += 1
            self.take("(")
            values = [self.parse_literal()]
            while self.accept(",", ","):
                values.append(self.parse_literal())
            self.take(")")
            return ("in", left, frozenset(values))
        return ("truthy", left)

    def parse_operand(self):
        tok = self.peek()
        if tok[0] == "name":
            self.pos += 1
            name = tok[1]
            if name.startswith("q."):
                return ("param", name[2:])
            if name not in FIELDS:
                raise QueryError("unknown field %r" % name, tok[2])
            return ("field", name)
        return ("lit", self.parse_literal())

    def parse_literal(self):
        tok = self.peek()
        self.pos += 1
        if tok[0] in ("num", "str"):
            return tok[1]
        if tok[0] == "kw" and tok[1] in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[tok[1]]
        raise QueryError("expected a value, got %r" % (tok[1],), tok[2])


def parse(text):
    return Parser(text).parse()


def compile_operand(node):
    kind, arg = node
    if kind == "field":
        def field(rec):
            return getattr(rec, arg)
        return field
    if kind == "param":
        def param(rec):
            return rec.query.get(arg)
        return param

    def literal(rec):
        return arg
    return literal


def compile_node(node):
    kind = node[0]
    if kind == "and":
        left, right = compile_node(node[1]), compile_node(node[2])

        def both(rec):
            return left(rec) and right(rec)
        return both
    if kind == "or":
        left, right = compile_node(node[1]), compile_node(node[2])

        def either(rec):
            return left(rec) or right(rec)
        return either
    if kind == "not":
        inner = compile_node(node[1])

        def negate(rec):
            return not inner(rec)
        return negate
    if kind == "in":
        get, values = compile_operand(node[1]), node[2]

        def member(rec):
            return get(rec) in values
        return member
    if kind == "truthy":
        get = compile_operand(node[1])

        def truthy(rec):
            return bool(get(rec))
        return truthy
    _, op, left, right = node
    lhs, rhs = compile_operand(left), compile_operand(right)

    def compare(rec):
        a = lhs(rec)
        b = rhs(rec)
        if a is None or b is None:
            return op == "==" and a is b or op == "!=" and a is not b
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op == "~":
            return str(b) in str(a)
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        return a >= b
    return compare


def compile_query(text):
    """Text -> predicate(record) -> bool.  Raises QueryError."""
    return compile_node(parse(text))


def select(records, text):
    pred = compile_query(text)
    return [rec for rec in records if pred(rec)]
