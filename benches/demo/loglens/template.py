"""A minimal template engine: {{ expr|filter }}, {% for x in expr %},
{% if expr %} / {% else %}, {% endfor %}, {% endif %}.

Templates compile once into a node tree; render() walks it with a chain
of context dicts (a for loop pushes one).  Expressions are dotted names
(row.count, report.totals.hits) resolved against dicts, then attributes.
Output is HTML-escaped unless the `safe` filter is used.  There is no
arbitrary code: a template cannot call functions other than filters.
"""


class TemplateError(ValueError):
    pass


def escape_html(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def fmt_ms(value):
    return "%.1f ms" % value


def fmt_pct(value):
    return "%.2f%%" % (100.0 * value)


def fmt_int(value):
    return "{:,}".format(value)


FILTERS = {"ms": fmt_ms, "pct": fmt_pct, "int": fmt_int, "upper": str.upper}


def lex(source):
    """Source -> list of ('text', s) / ('var', s) / ('tag', s)."""
    out = []
    pos = 0
    n = len(source)
    while pos < n:
        var = source.find("{{", pos)
        tag = source.find("{%", pos)
        if var < 0 and tag < 0:
            out.append(("text", source[pos:]))
            break
        if tag < 0 or 0 <= var < tag:
            start, closer, kind = var, "}}", "var"
        else:
            start, closer, kind = tag, "%}", "tag"
        if start > pos:
            out.append(("text", source[pos:start]))
        end = source.find(closer, start + 2)
        if end < 0:
            raise TemplateError("unclosed %s at offset %d" % (kind, start))
        out.append((kind, source[start + 2:end].strip()))
        pos = end + 2
        if kind == "tag" and pos < n and source[pos] == "\n":
            pos += 1
    return out


def compile_template(source):
    """Source -> node list.  Nodes: ('text', s), ('var', path, filters),
    ('for', name, path, body), ('if', path, negate, body, orelse)."""
    root = []
    stack = [("root", root, None)]
    for kind, value in lex(source):
        body = stack[-1][1]
        if kind == "text":
            body.append(("text", value))
        elif kind == "var":
            parts = [p.strip() for p in value.split("|")]
            body.append(("var", parts[0].split("."), parts[1:]))
        else:
            words = value.split()
            head = words[0] if words else ""
            if head == "for" and len(words) == 4 and words[2] == "in":
                node = ("for", words[1], words[3].split("."), [])
                body.append(node)
                stack.append(("for", node[3], node))
            elif head == "if" and len(words) in (2, 3):
                negate = words[1] == "not"
                node = ("if", words[-1].split("."), negate, [], [])
                body.append(node)
                stack.append(("if", node[3], node))
            elif head == "else" and stack[-1][0] == "if":
                node = stack.pop()[2]
                stack.append(("else", node[4], node))
            elif head == "endfor" and stack[-1][0] == "for":
                stack.pop()
            elif head == "endif" and stack[-1][0] in ("if", "else"):
                stack.pop()
            else:
                raise TemplateError("unexpected tag {%% %s %%}" % value)
    if len(stack) != 1:
        raise TemplateError("unclosed {%% %s %%}" % stack[-1][0])
    return root


def resolve(path, scopes):
    name = path[0]
    for scope in reversed(scopes):
        if name in scope:
            value = scope[name]
            break
    else:
        raise TemplateError("undefined name %r" % name)
    for attr in path[1:]:
        if isinstance(value, dict):
            value = value[attr]
        else:
            value = getattr(value, attr)
    return value


def render_nodes(nodes, scopes, out):
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "var":
            value = resolve(node[1], scopes)
            safe = False
            for name in node[2]:
                if name == "safe":
                    safe = True
                else:
                    value = FILTERS[name](value)
            text = value if isinstance(value, str) else str(value)
            out.append(text if safe else escape_html(text))
        elif kind == "for":
            scope = {}
            scopes.append(scope)
            for item in resolve(node[2], scopes):
                scope[node[1]] = item
                render_nodes(node[3], scopes, out)
            scopes.pop()
        else:
            value = resolve(node[1], scopes)
            if bool(value) != node[2]:
                render_nodes(node[3], scopes, out)
            else:
                render_nodes(node[4], scopes, out)


class Template:
    def __init__(self, source):
        self.nodes = compile_template(source)

    def render(self, **context):
        out = []
        render_nodes(self.nodes, [context], out)
        return "".join(out)
