"""Generate the Python gRPC stubs in ``matcher/v1`` from ``protos/``.

Usage::

    python scripts/generate_stubs.py          # regenerate in place
    python scripts/generate_stubs.py --check  # exit 1 if the committed stubs drifted

The stubs are committed so that integrators can ``pip install`` the package without
grpcio-tools; ``--check`` (run by the test suite) keeps them in sync with the protos.
Besides protoc's own ``_pb2.py``, ``_pb2.pyi`` and ``_pb2_grpc.py``, mypy-protobuf's grpc
plugin (``protoc-gen-mypy_grpc``, from the ``test`` extra) writes ``_pb2_grpc.pyi`` so that
the stubs, servicers and ``add_*_to_server`` functions are typed for mypy. protoc also writes
``descriptor_set.binpb``, a ``FileDescriptorSet`` of the same protos with their comments
(``--include_source_info``): the descriptors compiled into the ``_pb2`` modules carry no
comments, and the gateway reads its OpenAPI descriptions from this file, which is shipped as
package data, so a wheel install documents the API as fully as a source checkout.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
PACKAGE_DIR = Path("matcher") / "v1"
DESCRIPTOR_SET = "descriptor_set.binpb"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi", DESCRIPTOR_SET)
GRPC_TYPES_PLUGIN = "protoc-gen-mypy_grpc"


def _proto_files() -> list[str]:
    return sorted(
        str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE_DIR).glob("*.proto")
    )


def _grpc_types_plugin() -> Path:
    """The mypy-protobuf grpc plugin installed beside this interpreter (its venv's bin/)."""
    scripts = Path(sys.executable).parent
    for name in (GRPC_TYPES_PLUGIN, GRPC_TYPES_PLUGIN + ".exe"):
        if (scripts / name).is_file():
            return scripts / name
    raise SystemExit(
        f"{GRPC_TYPES_PLUGIN} not found in {scripts}: it writes the *_pb2_grpc.pyi files; "
        "install it with: pip install -e '.[test]' (the mypy-protobuf package)"
    )


def generate(out_dir: Path) -> list[Path]:
    """Run protoc into ``out_dir``; return the generated files relative to it."""
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    # protos/google/api holds copies of googleapis' annotations (for buf and for clients);
    # their Python modules come from googleapis-common-protos, so only ours are generated.
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--plugin={GRPC_TYPES_PLUGIN}={_grpc_types_plugin()}",
        f"--mypy_grpc_out={out_dir}",
        "--mypy_grpc_opt=quiet",
        "--include_source_info",
        f"--descriptor_set_out={out_dir / PACKAGE_DIR / DESCRIPTOR_SET}",
        *_proto_files(),
    ]
    (out_dir / PACKAGE_DIR).mkdir(parents=True, exist_ok=True)  # for --descriptor_set_out
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return sorted(
        p.relative_to(out_dir)
        for p in (out_dir / PACKAGE_DIR).iterdir()
        if p.name.endswith(GENERATED_SUFFIXES)
    )


def _committed() -> set[Path]:
    return {
        p.relative_to(ROOT)
        for p in (ROOT / PACKAGE_DIR).iterdir()
        if p.name.endswith(GENERATED_SUFFIXES)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if committed stubs differ")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generated = generate(out)
        if args.check:
            drift = sorted(
                str(rel)
                for rel in set(generated) | _committed()
                if not (out / rel).exists()
                or not (ROOT / rel).exists()
                or not filecmp.cmp(out / rel, ROOT / rel, shallow=False)
            )
            if drift:
                print("generated stubs differ from protos/: " + ", ".join(drift), file=sys.stderr)
                print("run: python scripts/generate_stubs.py", file=sys.stderr)
                return 1
            print(f"stubs in sync ({len(generated)} files)")
            return 0
        for rel in _committed() - set(generated):
            (ROOT / rel).unlink()
        for rel in generated:
            shutil.copyfile(out / rel, ROOT / rel)
        print(f"wrote {len(generated)} files to {PACKAGE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
