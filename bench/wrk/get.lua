-- GET a path; "{sku}" in it is replaced by one of the 200 benchmark SKUs at random, per request.
dofile(os.getenv("O2C_WRK_COMMON"))
function init(args)
  path = args[1]
  key = args[2]
  math.randomseed(id * 7919)
end
function request()
  local p = string.gsub(path, "{sku}", string.format("SKU-%05d", math.random(0, 199)))
  return wrk.format("GET", p, {["Authorization"] = "Bearer " .. key})
end
