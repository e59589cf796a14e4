import asyncio
import websockets
import json
from datetime import datetime

async def print_client():
    uri = "ws://localhost:8765"
    
    async with websockets.connect(uri) as websocket:
        # 发送打印机信息
        printer_info = {
            "type": "printer_info",
            "timestamp": datetime.now().isoformat(),
            "printer": {
                "name": "厨房打印机",
                "model": "TM-T88V",
                "status": "ready"
            }
        }
        await websocket.send(json.dumps(printer_info))
        
        # 监听消息
        async for message in websocket:
            data = json.loads(message)
            
            if data['type'] == 'new_order':
                # 处理新订单
                await handle_print_order(data['order'])
            elif data['type'] == 'ping':
                # 响应心跳
                pong = {
                    "type": "pong",
                    "timestamp": datetime.now().isoformat()
                }
                await websocket.send(json.dumps(pong))

async def handle_print_order(order):
    print(f"打印订单 #{order['order_id']}")
    print(order['content'])
    
    # 模拟打印过程
    await asyncio.sleep(2)
    
    # 这里添加实际的打印机驱动代码
    # ...

# 运行客户端
asyncio.run(print_client())
