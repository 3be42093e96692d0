# Child process of bad_calls.jl: runs the cases of bad_calls_cases.jl from index FROM on and
# reports each as it goes (START before, RESULT after, flushed), so that if this process dies the
# parent knows which case killed it.
#   julia --project=julia julia/test/bad_calls_child.jl FROM
using MX
include(joinpath(@__DIR__, "bad_calls_cases.jl"))

one_line(s) = replace(string(s), r"[\t\r\n]+" => " ")
from = parse(Int, ARGS[1])
for i in from:length(BAD_CALLS)
    println("START\t", i); flush(stdout)
    status, detail = judge_case(BAD_CALLS[i])
    println("RESULT\t", i, "\t", status, "\t", one_line(detail)); flush(stdout)
end
println("DONE"); flush(stdout)
