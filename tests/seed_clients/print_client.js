// 连接WebSocket服务器
const ws = new WebSocket('ws://localhost:8765');

// 连接成功
ws.onopen = function(event) {
    console.log('连接到打印服务器');
    
    // 发送打印机信息
    ws.send(JSON.stringify({
        type: 'printer_info',
        timestamp: new Date().toISOString(),
        printer: {
            name: '收银台打印机',
            model: 'TP-80',
            status: 'ready'
        }
    }));
};

// 接收消息
ws.onmessage = function(event) {
    const data = JSON.parse(event.data);
    
    switch(data.type) {
        case 'welcome':
            console.log('收到欢迎消息:', data.message);
            break;
            
        case 'new_order':
            // 处理新订单打印
            printOrder(data.order);
            break;
            
        case 'print_command':
            // 处理打印命令
            executePrintCommand(data.data);
            break;
    }
};

// 打印订单
function printOrder(order) {
    console.log('打印订单:', order.order_id);
    console.log('打印内容:', order.content);
    
    // 发送到实际打印机
    // ... 打印机驱动代码 ...
    
    // 发送打印状态
    ws.send(JSON.stringify({
        type: 'print_status',
        timestamp: new Date().toISOString(),
        job_id: order.job_id,
        status: 'completed',
        message: '打印成功'
    }));
}
