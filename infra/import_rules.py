"""An import-linter contract that its built-in types lack: no import cycle between modules.

`acyclic_siblings` compares packages as wholes, so it also refuses two domain packages that use
each other through different modules (services/accounts and services/trainings do, and that is no
cycle of modules). This one looks at modules only: a cycle is a set of modules that import each
other, directly or not, which Python can only load in one order and a reader cannot read apart.
Registered in pyproject.toml (`contract_types`) and run by `make lint`.
"""

from __future__ import annotations

from collections.abc import Iterator

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class AcyclicModulesContract(Contract):
    """No module of `package` reaches itself through the imports of the package's modules."""

    type_name = "acyclic_modules"

    package = fields.StringField()

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        package = str(self.package)  # type: ignore[attr-defined]
        modules = {package} | graph.find_descendants(package)
        cycles = [sorted(component) for component in _components(graph, modules)]
        described = [_described(graph, cycle) for cycle in sorted(cycles)]
        return ContractCheck(kept=not cycles, metadata={"cycles": described})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for modules, chain in check.metadata["cycles"]:
            output.print_error(f"{len(modules)} modules import each other:")
            output.indent_cursor()
            output.print_error(", ".join(modules), bold=False)
            output.new_line()
            output.print_error("for example " + " -> ".join(chain), bold=False)
            output.new_line()


def _described(graph: ImportGraph, cycle: list[str]) -> tuple[list[str], list[str]]:
    """The modules of a cycle and one loop through its first module, to show where to cut."""
    first = cycle[0]
    successor = next(
        module for module in graph.find_modules_directly_imported_by(first) if module in cycle
    )
    back = graph.find_shortest_chain(importer=successor, imported=first) or (successor, first)
    return cycle, [first, *back]


def _components(graph: ImportGraph, modules: set[str]) -> Iterator[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without
    recursion: a deep chain of imports must not reach Python's recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def successors(module: str) -> list[str]:
        return sorted(graph.find_modules_directly_imported_by(module) & modules)

    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(successors(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, remaining = work[-1]
            pushed = False
            for successor in remaining:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(successors(successor))))
                    pushed = True
                    break
                if successor in on_stack:
                    low[module] = min(low[module], index[successor])
            if pushed:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                if len(component) > 1:
                    yield component
