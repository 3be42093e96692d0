# Print the Julia package's documented bindings as Markdown (tools/docs/build_docs.py turns it into
# reST with pandoc). Run: MX_LIBRARY=build/libmx.so julia --project=julia tools/docs/gen_julia_reference.jl OUT.md
using MX

out = ARGS[1]
meta = Docs.meta(MX)
entries = sort([(string(b.var), b) for b in keys(meta)]; by = first)
open(out, "w") do io
    println(io, "# Julia reference\n")
    println(io, "The docstrings of the Julia package `MX` (", length(entries),
            " documented names), extracted by `tools/docs/gen_julia_reference.jl`. ",
            "Operator functions `MX.nd.<op>` are generated from the op registry at load time and are ",
            "documented in the operator reference.\n")
    for (name, b) in entries
        # Only MX's own docstrings (Docs.doc would add Base's methods of the same function).
        println(io, "## `", name, "`\n")
        for d in values(meta[b].docs)
            # Raw Markdown; a docstring's own headings ("# Examples") go below the name's heading.
            text = join(d.text)
            println(io, replace(text, r"^(#{1,3}) "m => s"###\1 "), "\n")
        end
    end
end
println("gen_julia_reference: ", length(entries), " documented names -> ", out)
