#!/usr/bin/env escript
%%! -noshell
%% Runs headers_match/2 of an installed RabbitMQ's headers exchange on the
%% cases below (typed binding args, typed message headers, both sorted as
%% RabbitMQ sorts them) and prints each result. TestHeadersMatch holds the
%% same expectations; this is how they were checked against RabbitMQ 3.10.8:
%%
%%   escript rabbitmq-headers.escript /usr/lib/rabbitmq/lib/rabbitmq_server-3.10.8/plugins
main([EB]) ->
    [true = code:add_patha(filename:join([EB, App, "ebin"])) || App <- ["rabbit_common-3.10.8", "rabbit-3.10.8"]],
    Beam = filename:join([EB, "rabbit-3.10.8", "ebin", "rabbit_exchange_type_headers.beam"]),
    {ok, {Mod, [{debug_info, {debug_info_v1, Backend, Meta}}]}} = beam_lib:chunks(Beam, [debug_info]),
    {ok, Forms} = Backend:debug_info(erlang_v1, Mod, Meta, []),
    {ok, Mod, Bin} = compile:forms(Forms, [export_all, binary, nowarn_export_all]),
    {module, Mod} = code:load_binary(Mod, "x.beam", Bin),
    S = fun(T) -> lists:keysort(1, T) end,
    M = fun(Args, Data) -> Mod:headers_match(S(Args), S(Data)) end,
    Cases = [
      {"int32 1 vs long 1", [{<<"n">>, signedint, 1}], [{<<"n">>, long, 1}]},
      {"int 1 vs double 1.0", [{<<"n">>, signedint, 1}], [{<<"n">>, double, 1.0}]},
      {"int 1 vs timestamp 1", [{<<"n">>, signedint, 1}], [{<<"n">>, timestamp, 1}]},
      {"int 1 vs decimal", [{<<"n">>, signedint, 1}], [{<<"n">>, decimal, {0,1}}]},
      {"longstr vs binary", [{<<"s">>, longstr, <<"abc">>}], [{<<"s">>, binary, <<"abc">>}]},
      {"void presence", [{<<"a">>, void, undefined}], [{<<"a">>, longstr, <<"x">>}]},
      {"void absent", [{<<"a">>, void, undefined}], [{<<"b">>, longstr, <<"x">>}]},
      {"header void vs value", [{<<"a">>, longstr, <<"x">>}], [{<<"a">>, void, undefined}]},
      {"empty all", [], []},
      {"empty any", [{<<"x-match">>, longstr, <<"any">>}], [{<<"a">>, long, 1}]},
      {"any only x", [{<<"x-match">>, longstr, <<"any">>}, {<<"x-a">>, longstr, <<"1">>}], [{<<"x-a">>, longstr, <<"1">>}]},
      {"any-with-x", [{<<"x-match">>, longstr, <<"any-with-x">>}, {<<"x-a">>, longstr, <<"1">>}], [{<<"x-a">>, longstr, <<"1">>}]},
      {"all-with-x missing", [{<<"x-match">>, longstr, <<"all-with-x">>}, {<<"x-a">>, longstr, <<"1">>}, {<<"b">>, long, 1}], [{<<"b">>, long, 1}]},
      {"x-match only all-with-x", [{<<"x-match">>, longstr, <<"all-with-x">>}], []},
      {"dup data first", [{<<"a">>, long, 1}], [{<<"a">>, long, 2}, {<<"a">>, long, 1}]},
      {"dup data second", [{<<"a">>, long, 1}], [{<<"a">>, long, 1}, {<<"a">>, long, 2}]},
      {"array typed", [{<<"l">>, array, [{signedint, 1}]}], [{<<"l">>, array, [{long, 1}]}]},
      {"array same", [{<<"l">>, array, [{signedint, 1}]}], [{<<"l">>, array, [{signedint, 1}]}]},
      {"table reordered", [{<<"t">>, table, [{<<"a">>, long, 1}, {<<"b">>, long, 2}]}], [{<<"t">>, table, [{<<"b">>, long, 2}, {<<"a">>, long, 1}]}]},
      {"float 2.5 vs float32", [{<<"f">>, double, 2.5}], [{<<"f">>, float, 2.5}]},
      {"bytes x-match", [{<<"x-match">>, binary, <<"any">>}, {<<"a">>, long, 1}, {<<"b">>, long, 2}], [{<<"a">>, long, 1}]},
      {"bogus x-match", [{<<"x-match">>, longstr, <<"bogus">>}, {<<"a">>, long, 1}, {<<"b">>, long, 2}], [{<<"a">>, long, 1}]},
      {"bool vs byte", [{<<"b">>, bool, true}], [{<<"b">>, byte, 1}]},
      {"large int vs float", [{<<"n">>, long, 9007199254740993}], [{<<"n">>, double, 9007199254740992.0}]},
      {"minint vs float", [{<<"n">>, long, -9223372036854775808}], [{<<"n">>, double, -9223372036854775808.0}]},
      {"zero vs -0.0", [{<<"n">>, long, 0}], [{<<"n">>, double, -0.0}]}
    ],
    [io:format("~-28s ~p~n", [N, M(A, D)]) || {N, A, D} <- Cases],
    ok.
