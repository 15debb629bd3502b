-- POST /v1/orders: 3-line orders of the benchmark's SKUs and customers, a unique order id per request.
dofile(os.getenv("O2C_WRK_COMMON"))
function init(args)
  key = args[1]
  run = args[2]
  n = 0
  math.randomseed(id * 104729)
end
function request()
  n = n + 1
  local a = math.random(0, 197)
  local body = string.format(
    '{"order_id":"W-%s-%d-%d","customer_id":"CUST-%04d","channel":"web","lines":[' ..
    '{"sku":"SKU-%05d","qty":%d},{"sku":"SKU-%05d","qty":%d},{"sku":"SKU-%05d","qty":%d}]}',
    run, id, n, math.random(0, 49), a, math.random(1, 3), a + 1, math.random(1, 3), a + 2, math.random(1, 3))
  return wrk.format("POST", "/v1/orders",
    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}, body)
end
